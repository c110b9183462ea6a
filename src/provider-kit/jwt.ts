// Reading a JWT's claims without verifying it. credmux never trusts a token's claims for access:
// it reads `exp` to learn when a credential expires, and the service-account claims to key the
// cache, both of which only ever narrow what credmux does.

export interface JwtClaims {
  exp?: number;
  sub?: string;
  [claim: string]: unknown;
}

/** The payload of a compact JWT, or undefined when the text is not one. */
export function decodeJwtClaims(token: string): JwtClaims | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[1] === "") return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    return typeof claims === "object" && claims !== null && !Array.isArray(claims) ? (claims as JwtClaims) : undefined;
  } catch {
    return undefined;
  }
}

/** When a JWT stops working, from its `exp` claim (seconds since the epoch). */
export function jwtExpiry(token: string): Date | undefined {
  const exp = decodeJwtClaims(token)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) && exp > 0 ? new Date(exp * 1000) : undefined;
}
