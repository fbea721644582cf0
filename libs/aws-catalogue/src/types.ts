/**
 * The catalogue's format (data/catalogue.ndjson, written by generator/generate.mjs). Keys are short because the file
 * holds every operation of every AWS service; this file names them.
 */
export type Protocol = 'query' | 'ec2' | 'json' | 'rest-json' | 'rest-xml';

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

/** Where a member travels: URI label, query string, header, or the body (form parameters for query and ec2). */
export type MemberLocation = 'u' | 'q' | 'h' | 'b';

/** 0 scalar, 1 list, 2 map. */
export type MemberKind = 0 | 1 | 2;

/**
 * An input member the catalogue keeps: [member name, location, wire name (0 or absent: same as the member name),
 * kind]. For query-protocol lists the wire name is the prefix before `.N` (`Names.member`); for ec2 it is `InstanceId`.
 */
export type CatalogueMember = [name: string, location: MemberLocation, wire?: string | 0, kind?: MemberKind];

export interface CatalogueOperation {
  /** REST binding: "METHOD /uri/{Label}/{Greedy+}?literal&key=value" (rest-json and rest-xml only). */
  h?: string;
  /** 1 when a REST body is one member (a blob or document), not an object of members. */
  pl?: 1;
  /** 1 when the answer's body is one blob or string member: the caller's own data (an S3 object, a function's result). */
  po?: 1;
  /** Host prefix template, e.g. "{AccountId}." (S3 Control). */
  hp?: string;
  /** 1 when the operation only reads (judged from its verb). */
  r?: 1;
  /** IAM action when it is not `<iam prefix>:<Operation>`. */
  a?: string;
  /** IAM action when the request names an object version (`versionId`). */
  va?: string;
  /** Input members that name resources, URI labels and host-prefix labels. */
  m?: CatalogueMember[];
  /** Indexes into the service's `arn` templates that apply to this operation. */
  t?: number[];
  /** Required query-string (`q:name`) and header (`h:name`) members: a request without them is another operation. */
  d?: string[];
  /** Input members marked sensitive: wire names of body members, or `q:`/`h:`/`u:` + wire name. */
  si?: string[];
  /**
   * Output members marked sensitive, as dotted paths of wire names from the output structure (the result element for
   * query protocols): `[]` is any list element, `{}` any map value, `.` the whole output.
   */
  so?: string[];
}

export interface CatalogueService {
  /** SigV4 signing name. */
  sig: string;
  /** IAM action prefix when it differs from the signing name. */
  iam?: string;
  /** First label(s) of the service's host name. */
  ep: string;
  p: Protocol;
  /** API version (query protocols send it as Version). */
  v: string;
  /** X-Amz-Target prefix (json protocol). */
  tp?: string;
  /** JSON protocol version (application/x-amz-json-<jv>). */
  jv?: string;
  /** XML namespace of answers (query protocols). */
  ns?: string;
  /** 1 when a json service also accepts query-protocol requests (SQS). */
  qc?: 1;
  /** Global endpoint per partition: [host, signing region]. */
  g?: Partial<Record<Partition, [host: string, signingRegion: string]>>;
  /** ARN templates; see generator/rules.mjs for the syntax. */
  arn?: string[];
  ops: Record<string, CatalogueOperation>;
}

export interface Catalogue {
  /** The npm package the models came from. */
  source: string;
  format: 1;
  /** Service id to use for a signing name that several services share, when a request cannot tell them apart. */
  primary: Record<string, string>;
  /** By service id (the model's name, lower case: "s3", "s3control", "runtime.sagemaker"). */
  services: Record<string, CatalogueService>;
}
