import { loadConfig } from '../core/config.ts';
import { createTokenStore, openDatabase } from '../core/store/index.ts';
import { loadSigningSecret, rotateSigningSecret } from '../server/auth/signing-secret.ts';
import { DEFAULT_TOKEN_TTL_S, issueToken } from '../server/auth/tokens.ts';
import { parseCommandArgs, parseDuration, UsageError } from './args.ts';
import type { CliIo } from './io.ts';

export const TOKEN_USAGE = `autodev token [--scope read|control] [--ttl 1h] [--subject NAME] [--data-dir DIR] [--json]
autodev token --revoke JTI [--data-dir DIR]
autodev token --rotate-secret [--data-dir DIR]
  Prints a JWT the server accepts (Authorization: Bearer <jwt>, or the WebSocket auth message).
  read: watch and query; control: also create, type, resize, cancel, terminate.
  --revoke closes open sockets using that token within ~1 s; --rotate-secret invalidates every token.`;

export async function tokenCommand(argv: string[], io: CliIo): Promise<number> {
  const values = parseCommandArgs(argv, {
    scope: { type: 'string', default: 'control' },
    ttl: { type: 'string' },
    subject: { type: 'string', default: 'local' },
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' },
    revoke: { type: 'string' },
    'rotate-secret': { type: 'boolean' },
  });
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
