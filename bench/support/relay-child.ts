/**
 * The child half of ws-throughput.bench.ts's relay baseline: an interactive bash in node-pty whose every
 * read is written as is to a Unix socket, and whose input is what the socket sends. No batching,
 * framing, mirror or storage: the most a design with a PTY process and a server process can reach.
 *
 *   node bench/support/relay-child.ts <socket path> <tmp dir>
 */
import net from 'node:net';
import { spawn } from 'node-pty';

const [socketPath, tmp] = process.argv.slice(2) as [string, string];
const socket = net.connect(socketPath);
const pty = spawn('/bin/bash', ['--norc', '--noprofile', '-i'], {
  name: 'xterm-256color',
  cols: 200,
  rows: 50,
  cwd: tmp,
  env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmp, TERM: 'xterm-256color', PS1: '$ ' },
});
pty.onData((data) => socket.write(data));
socket.on('data', (data) => pty.write(data.toString()));
socket.on('close', () => {
  pty.kill('SIGKILL');
  process.exit(0);
});
