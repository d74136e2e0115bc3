/**
 * authorization.k8s.io/v1 SelfSubjectAccessReview: "may I do this?" for the caller's own credentials, the
 * request behind `kubectl auth can-i` (kubernetes/kubernetes pkg/registry/authorization/selfsubjectaccessreview/rest.go:
 * create-only, nothing stored, the spec echoed back with `status.allowed`).
 *
 * Simplification: the twin has one identity, its admin kubeconfig's bearer token (every other request is
 * 401 before it gets here), and that identity may do everything, like cluster-admin; so every well-formed
 * review is allowed. The validation is the real one (pkg/apis/authorization/validation/validation.go
 * ValidateSelfSubjectAccessReviewSpec): exactly one of resourceAttributes / nonResourceAttributes.
 */
import type { StatusCause } from './status.ts';
import { errors } from './status.ts';

export const AUTHZ_GROUP = 'authorization.k8s.io';
export const AUTHZ_VERSION = 'v1';

/** The discovery entry (a real 1.32 API server lists it with verbs [create] only). */
export const SSAR_RESOURCE = {
  name: 'selfsubjectaccessreviews',
  singularName: 'selfsubjectaccessreview',
  namespaced: false,
  kind: 'SelfSubjectAccessReview',
  verbs: ['create'],
};

/** The answer to one review, or a 422 Invalid as the real API server gives it. */
export function reviewSelfSubjectAccess(body: unknown): Record<string, unknown> {
  const review = (body ?? {}) as { spec?: { resourceAttributes?: unknown; nonResourceAttributes?: unknown } };
  const spec = review.spec ?? {};
  const causes: StatusCause[] = [];
  if (spec.resourceAttributes && spec.nonResourceAttributes) {
    causes.push({
      reason: 'FieldValueInvalid',
      message: 'Invalid value: "object": cannot be specified in combination with resourceAttributes',
      field: 'spec.nonResourceAttributes',
    });
  }
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    causes.push({
      reason: 'FieldValueInvalid',
      message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
      field: 'spec.resourceAttributes',
    });
  }
  if (causes.length) throw errors.invalid('SelfSubjectAccessReview', AUTHZ_GROUP, '', causes);
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: `${AUTHZ_GROUP}/${AUTHZ_VERSION}`,
    metadata: { creationTimestamp: null },
    spec,
    status: { allowed: true, reason: 'twin: the admin kubeconfig may do everything' },
  };
}
