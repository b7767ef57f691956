/** The agents' own signals (hooks, notify, OSC status) laid over the screen rules: see service.ts. */
export { type RelayPost, type SignalEndpoint, startSignalEndpoint } from './endpoint.ts';
export { type EndpointManifest, sessionMac, signalPaths } from './files.ts';
export { fuse, sameDetection } from './fusion.ts';
export { type ActiveSignal, type Interpretation, SignalInterpreter } from './interpret.ts';
export { OscScanner } from './osc-scanner.ts';
export { PAYLOAD_PARSERS } from './parsers.ts';
export { RELAY_SCRIPT } from './relay-script.ts';
export {
  createSignalService,
  type SessionSignals,
  type SignalService,
  type SignalServiceOptions,
} from './service.ts';
export { SessionSignalFusion } from './session-fusion.ts';
export { wireSession } from './spawn-wiring.ts';
