/** Kubernetes `Status` errors: every failed request answers with one of these. */

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** `pods "x"` or `deployments.apps "x"`, the way the real server names a resource in messages. */
export function qualifiedName(group: string, plural: string, name: string): string {
  return `${group ? `${plural}.${group}` : plural} "${name}"`;
}

export const errors = {
  notFound(group: string, plural: string, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${qualifiedName(group, plural, name)} not found`, { name, group, kind: plural });
  },
  alreadyExists(group: string, plural: string, name: string): ApiError {
    return new ApiError(409, 'AlreadyExists', `${qualifiedName(group, plural, name)} already exists`, { name, group, kind: plural });
  },
  conflict(
    group: string,
    plural: string,
    name: string,
    why = 'the object has been modified; please apply your changes to the latest version and try again',
  ): ApiError {
    return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedName(group, plural, name)}: ${why}`, {
      name,
      group,
      kind: plural,
    });
  },
  invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
    // errs.ToAggregate().Error(): one error as is, several as [a, b] (k8s.io/apimachinery util/errors).
    const msgs = [...new Set(causes.map((c) => `${c.field ? `${c.field}: ` : ''}${c.message}`))];
    const list = msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
    return new ApiError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${list}`, { name, group, kind, causes });
  },
  badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  },
  unprocessable(message: string): ApiError {
    return new ApiError(422, 'Invalid', message);
  },
  methodNotAllowed(message = 'the server does not allow this method on the requested resource'): ApiError {
    return new ApiError(405, 'MethodNotAllowed', message);
  },
  unauthorized(): ApiError {
    return new ApiError(401, 'Unauthorized', 'Unauthorized');
  },
  forbidden(message: string): ApiError {
    return new ApiError(403, 'Forbidden', message);
  },
  gone(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  },
  pathNotFound(): ApiError {
    return new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  },
};

export function statusSuccess(details?: StatusDetails): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', ...(details ? { details } : {}) };
}
