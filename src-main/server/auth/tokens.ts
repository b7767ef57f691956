import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { TokenScope } from '../../../src-shared/ws-protocol.ts';

/** Pinned verification parameters: one algorithm, one issuer, one audience. */
export const TOKEN_ALGORITHM = 'HS256';
export const TOKEN_ISSUER = 'autodev';
export const TOKEN_AUDIENCE = 'autodev-api';
/** Clock skew we forgive on exp/nbf/iat (seconds). */
export const CLOCK_TOLERANCE_S = 30;
/** Longest lifetime a token may claim (iat..exp); older tokens are rejected even if exp says otherwise. */
export const MAX_TOKEN_TTL_S = 30 * 24 * 3600;
export const DEFAULT_TOKEN_TTL_S = 3600;

const SCOPES: readonly TokenScope[] = ['read', 'control'];
/** Header parameters that could point verification at another key; never honoured, so refused outright. */
const FORBIDDEN_HEADER_PARAMS = ['jku', 'jwk', 'x5u', 'x5c', 'kid', 'crit'];

export interface TokenClaims {
  sub: string;
  scope: TokenScope;
  jti: string;
  /** Epoch seconds. */
  iat: number;
  exp: number;
}

export interface IssueTokenOptions {
  scope: TokenScope;
  ttlSeconds?: number;
  subject?: string;
  now?: number;
}

export async function issueToken(
  key: Uint8Array,
  options: IssueTokenOptions,
): Promise<{ token: string; claims: TokenClaims }> {
  const ttl = options.ttlSeconds ?? DEFAULT_TOKEN_TTL_S;
  if (!Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_TOKEN_TTL_S) {
    throw new RangeError(`token ttl must be between 1 s and ${MAX_TOKEN_TTL_S} s`);
  }
  if (!SCOPES.includes(options.scope)) throw new RangeError(`unknown scope ${String(options.scope)}`);
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const claims: TokenClaims = {
    sub: options.subject ?? 'local',
    scope: options.scope,
    jti: randomUUID(),
    iat,
    exp: iat + Math.floor(ttl),
  };
  const token = await new SignJWT({ scope: claims.scope })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(claims.sub)
    .setJti(claims.jti)
    .setIssuedAt(claims.iat)
    .setExpirationTime(claims.exp)
    .sign(key);
  return { token, claims };
}

export class TokenError extends Error {
  override readonly name = 'TokenError';
  readonly expired: boolean;
  constructor(message: string, expired = false) {
    super(message);
    this.expired = expired;
  }
}

/**
 * Verify with everything pinned (HS256 only, issuer, audience, exp/iat/jti/sub/scope required, small
 * clock tolerance, bounded age). Throws TokenError with a message safe to show the client: it names the
 * failed check, never echoes the token.
 */
export async function verifyToken(key: Uint8Array, token: string, now?: number): Promise<TokenClaims> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 8192) {
    throw new TokenError('malformed token');
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new TokenError('malformed token');
  }
  if (header.alg !== TOKEN_ALGORITHM) throw new TokenError(`token algorithm must be ${TOKEN_ALGORITHM}`);
  for (const param of FORBIDDEN_HEADER_PARAMS) {
    if (param in header) throw new TokenError(`token header parameter "${param}" is not accepted`);
  }
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [TOKEN_ALGORITHM],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      requiredClaims: ['exp', 'iat', 'jti', 'sub', 'scope'],
      clockTolerance: CLOCK_TOLERANCE_S,
      maxTokenAge: MAX_TOKEN_TTL_S,
      ...(now !== undefined ? { currentDate: new Date(now) } : {}),
    });
    const scope = payload['scope'];
    if (scope !== 'read' && scope !== 'control') throw new TokenError('token scope must be read or control');
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 128) {
      throw new TokenError('token jti is invalid');
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) {
      throw new TokenError('token sub is invalid');
    }
    if ((payload.exp as number) - (payload.iat as number) > MAX_TOKEN_TTL_S) {
      throw new TokenError('token lifetime is too long');
    }
    return {
      sub: payload.sub,
      scope,
      jti: payload.jti,
      iat: payload.iat as number,
      exp: payload.exp as number,
    };
  } catch (error) {
    if (error instanceof TokenError) throw error;
    if (error instanceof joseErrors.JWTExpired) {
      // maxTokenAge failures arrive as JWTExpired on the iat claim: too old, not "expired".
      if (error.claim === 'iat') throw new TokenError('token claim "iat" is too old');
      throw new TokenError('token expired', true);
    }
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      throw new TokenError(`token claim "${error.claim}" check failed: ${error.reason}`);
    }
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw new TokenError('token signature verification failed');
    }
    throw new TokenError('invalid token');
  }
}

export function hasScope(granted: TokenScope, needed: TokenScope): boolean {
  return needed === 'read' || granted === 'control';
}
