/** An AWS call named the way IAM names it. */
export interface CallDescription {
  /** Catalogue id of the service the call went to ("s3", "s3control"). */
  service: string;
  /** API operation, e.g. "PutObject"; "Unknown" when known is false. */
  operation: string;
  /** IAM action, e.g. "s3:PutObject". */
  action: string;
  /** ARNs of the resources the call names, built with the role's account and the signed region. */
  resources: string[];
  /** Parameters that matter for decisions; values that look secret, or that the model marks sensitive, are masked. */
  parameters: Record<string, string>;
  /** False when Airlock could not name the operation; policy decides about it. */
  known: boolean;
  /** True when the operation only reads (judged from its verb: Get, List, Describe, Head, Query, Scan…). */
  readOnly: boolean;
  /**
   * Host labels the operation puts in front of the endpoint ("123456789012." for S3 Control), already checked to be
   * DNS labels; resolveUpstream prepends them.
   */
  hostPrefix?: string;
}
