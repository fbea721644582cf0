/** An AWS call named the way IAM names it. */
export interface CallDescription {
  /** API operation, e.g. "PutObject". */
  operation: string;
  /** IAM action, e.g. "s3:PutObject". */
  action: string;
  resources: string[];
  /** Parameters that matter for decisions; values that look secret are masked. */
  parameters: Record<string, string>;
  /** False when Airlock could not name the operation; policy decides about it. */
  known: boolean;
}
