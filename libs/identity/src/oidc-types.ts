/** One identity provider Airlock trusts. */
export interface IssuerConfig {
  /** Exactly as the tokens' `iss` claim spells it. */
  issuer: string;
  /** A token must name at least one of these in `aud`. */
  audience: string | string[];
  /** Skips OIDC discovery when given. */
  jwksUri?: string;
  /** Default ['RS256','RS384','RS512','ES256','ES384','PS256','EdDSA']. Only asymmetric algorithms: never 'none' or HS*. */
  algorithms?: string[];
  /** Claim that lists the caller's groups; default 'groups'. A dotted path ('realm_access.roles') reaches nested claims. */
  groupsClaim?: string;
  /** Allowed clock difference for exp and nbf; default 60 seconds. */
  clockToleranceSec?: number;
}

/** A caller whose identity token verified. */
export interface VerifiedIdentity {
  issuer: string;
  subject: string;
  /** The configured audience the token matched. */
  audience: string;
  groups: string[];
  name?: string;
  email?: string;
  expiresAt: Date;
  /** Non-secret claims kept for records: iss, sub, aud, exp, iat, email, name, groups. */
  claims: Record<string, unknown>;
}
