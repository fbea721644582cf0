/** Who an issuer speaks for: people (a company IdP) or workloads (Kubernetes service accounts, CI). Shown in records. */
export type IssuerKind = 'people' | 'workloads';

/**
 * Which token claims carry the caller's subject, name, e-mail and groups. A name is looked up whole first, so URL-named
 * claims ("https://example.com/groups") and namespaced ones ("cognito:groups") work as they are; otherwise it is read as
 * a dotted path into nested claims ("realm_access.roles", "kubernetes.io.namespace": a segment may itself contain dots).
 */
export interface ClaimMapping {
  /** Default 'sub'. The claim must be a non-empty string, or the token is refused. */
  subject: string;
  /** Default 'name'. */
  name: string;
  /** Default 'email'. */
  email: string;
  /** Default 'groups'. A list of strings or a single string; any other shape is refused. */
  groups: string;
}

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
  /** Default 'workloads'. */
  kind?: IssuerKind;
  /** Claim names; each defaults to the standard claim. */
  claims?: Partial<ClaimMapping>;
  /** Role ARN patterns this issuer's tokens may use; `*` matches any run of characters. Default ['*'] (any role). */
  roles?: string[];
  /** Longest Airlock session a token from this issuer can buy, in seconds; the edge's own maximum applies too. */
  maxSessionSeconds?: number;
  /** Allowed clock difference for exp, nbf and iat; default 60 seconds, at most 300. */
  clockToleranceSec?: number;
}

/** A caller whose identity token verified. */
export interface VerifiedIdentity {
  issuer: string;
  kind: IssuerKind;
  /** From the issuer's subject claim. */
  subject: string;
  /** The configured audience the token matched. */
  audience: string;
  groups: string[];
  name?: string;
  email?: string;
  expiresAt: Date;
  /** The role ARN patterns the issuer may use (see `assertRoleAllowed`). */
  roles: readonly string[];
  /** The issuer's session cap, when it has one. */
  maxSessionSeconds?: number;
  /** Non-secret claims kept for records: iss, sub, aud, exp, iat, nbf, and the mapped name, email and groups. */
  claims: Record<string, unknown>;
}
