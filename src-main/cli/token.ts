import { loadConfig } from '../core/config.ts';
import { createTokenStore, openDatabase } from '../core/store/index.ts';
import { loadSigningSecret, rotateSigningSecret } from '../server/auth/signing-secret.ts';
import { DEFAULT_TOKEN_TTL_S, issueToken } from '../server/auth/tokens.ts';
import { parseDuration, UsageError } from './args.ts';
import type { CliIo } from './io.ts';

/** `autodev token` options as the command line parsed them (program.ts). */
export interface TokenOptions {
  scope?: string;
  ttl?: string;
  subject?: string;
  dataDir?: string;
  config?: string;
  json?: boolean;
  revoke?: string;
  rotateSecret?: boolean;
}

export async function tokenCommand(options: TokenOptions, io: CliIo): Promise<number> {
  const values = {
    scope: options.scope ?? 'control',
    ttl: options.ttl,
    subject: options.subject ?? 'local',
    'data-dir': options.dataDir,
    config: options.config,
    json: options.json,
    revoke: options.revoke,
    'rotate-secret': options.rotateSecret,
  };
  const config = loadConfig({ dataDir: values['data-dir'], configFile: values.config, env: io.env });
  if (values['rotate-secret']) {
    if (io.env['JWT_SECRET']) throw new UsageError('JWT_SECRET is set: rotate it in the environment instead');
    rotateSigningSecret(config.dataDir);
    io.stdout('signing secret rotated: every previously issued token is now invalid (restart the server)\n');
    return 0;
  }
  const db = openDatabase({ schemaDir: config.schemaDir, dataDir: config.dataDir, env: io.env });
  try {
    const registry = createTokenStore(db.db);
    if (values.revoke !== undefined) {
      registry.revoke(values.revoke);
      io.stdout(`revoked ${values.revoke}\n`);
      return 0;
    }
    const scope = values.scope;
    if (scope !== 'read' && scope !== 'control') throw new UsageError('--scope must be read or control');
    const ttl = values.ttl !== undefined ? parseDuration(values.ttl) : DEFAULT_TOKEN_TTL_S;
    const secret = loadSigningSecret(config.dataDir, io.env);
    const { token, claims } = await issueToken(secret.key, {
      scope,
      ttlSeconds: ttl,
      subject: values.subject,
    });
    registry.record({
      jti: claims.jti,
      subject: claims.sub,
      scope: claims.scope,
      issued_at: new Date(claims.iat * 1000).toISOString(),
      expires_at: new Date(claims.exp * 1000).toISOString(),
    });
    if (values.json) {
      io.stdout(
        `${JSON.stringify({ token, jti: claims.jti, scope, subject: claims.sub, expires_at: new Date(claims.exp * 1000).toISOString() })}\n`,
      );
    } else {
      io.stdout(`${token}\n`);
    }
    return 0;
  } finally {
    db.close();
  }
}
