import type { authV1 } from '@overture/contracts';
import type { PolicyView, SecurityEventsView } from '@overture/gateway-contract';

export function toPolicyView(policy: authV1.GetPolicyResponse): PolicyView {
  return {
    version: policy.version,
    roles: Object.fromEntries(policy.roles.map((r) => [r.role, r.permissions])),
    permissions: policy.permissions,
  };
}

export function toSecurityEventsView(events: readonly authV1.SecurityEvent[]): SecurityEventsView {
  return {
    events: events.map((e) => ({
      id: e.eventId,
      occurred_at: e.occurredAt,
      kind: e.kind,
      user_id: e.userId || null,
      actor_user_id: e.actorUserId || null,
      session_id: e.sessionId || null,
      client_address: e.clientAddress || null,
      detail: JSON.parse(e.detail || '{}') as Record<string, unknown>,
    })),
  };
}
