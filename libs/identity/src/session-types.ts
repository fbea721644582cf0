/** Who an Airlock session belongs to and what it may act as; carried inside the session token. */
export interface SessionClaims {
  sessionId: string;
  subject: string;
  /** The identity provider that vouched for the subject. */
  issuer: string;
  groups: string[];
  name?: string;
  roleArn: string;
  roleSessionName: string;
  accessKeyId: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** What the STS facade hands out, in the shape of STS credentials. Worthless anywhere but at Airlock. */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** Server keys (>= 32 bytes each). `current` issues; `previous` keys still open what they issued, for rotation. */
export interface SessionKeyRing {
  current: { id: string; secret: Uint8Array };
  previous?: { id: string; secret: Uint8Array }[];
}
