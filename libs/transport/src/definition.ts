/**
 * Typed views of the service definitions ts-proto generates for @grpc/grpc-js (`outputServices=grpc-js`), so that one
 * async implementation can be served over gRPC or bound in process, and one client type serves callers in both modes.
 */
export interface MethodDefinition<Req, Res> {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  requestSerialize(value: Req): Buffer;
  requestDeserialize(bytes: Buffer): Req;
  responseSerialize(value: Res): Buffer;
  responseDeserialize(bytes: Buffer): Res;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- variance: any method definition of any message types
export type ServiceDefinition = Record<string, MethodDefinition<any, any>>;

export type RequestOf<M> = M extends MethodDefinition<infer Req, unknown> ? Req : never;
export type ResponseOf<M> = M extends MethodDefinition<unknown, infer Res> ? Res : never;

/** What a handler knows about the call besides its message. */
export interface CallContext {
  /** Aborted when the caller cancels or its deadline passes. */
  readonly signal: AbortSignal;
  readonly metadata: Readonly<Record<string, string>>;
}

type IsBidi<M> = M extends { requestStream: true; responseStream: true } ? true : false;

export type MethodHandler<M> =
  IsBidi<M> extends true
    ? (requests: AsyncIterable<RequestOf<M>>, context: CallContext) => AsyncIterable<ResponseOf<M>>
    : (request: RequestOf<M>, context: CallContext) => Promise<ResponseOf<M>>;

export type ServiceImplementation<D extends ServiceDefinition> = { [K in keyof D]: MethodHandler<D[K]> };

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the client's default deadline for one unary call. */
  timeoutMs?: number;
  metadata?: Record<string, string>;
}

export type MethodClient<M> =
  IsBidi<M> extends true
    ? (requests: AsyncIterable<RequestOf<M>>, options?: CallOptions) => AsyncIterable<ResponseOf<M>>
    : (request: RequestOf<M>, options?: CallOptions) => Promise<ResponseOf<M>>;

export type ServiceClient<D extends ServiceDefinition> = { [K in keyof D]: MethodClient<D[K]> };

export function methodKind(method: MethodDefinition<unknown, unknown>): 'unary' | 'bidi' {
  if (!method.requestStream && !method.responseStream) return 'unary';
  if (method.requestStream && method.responseStream) return 'bidi';
  // Contracts use only unary and bidirectional calls; a new shape needs support here first.
  throw new Error(`${method.path}: only unary and bidirectional streaming methods are supported`);
}
