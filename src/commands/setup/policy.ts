/**
 * The queue's access policy: EventBridge (events.amazonaws.com) and SQS
 * itself (sqs.amazonaws.com, as kOps grants) may send; any request without
 * TLS is denied. `policyAllowsEventBridge` reads an existing policy back for
 * `doctor`. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions
 */
export const EVENTBRIDGE_PRINCIPAL = "events.amazonaws.com";
const SENDERS = [EVENTBRIDGE_PRINCIPAL, "sqs.amazonaws.com"];

export function queuePolicy(queueArn: string): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Id: "nthd-queue-policy",
    Statement: [
      {
        Sid: "EventsToQueue",
        Effect: "Allow",
        Principal: { Service: SENDERS },
        Action: "sqs:SendMessage",
        Resource: queueArn,
      },
      {
        Sid: "DenyWithoutTls",
        Effect: "Deny",
        Principal: "*",
        Action: "sqs:*",
        Resource: queueArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

export type PolicyVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

interface Statement {
  Effect?: unknown;
  Principal?: unknown;
  Action?: unknown;
  Resource?: unknown;
  Condition?: unknown;
}

/**
 * Whether the policy lets EventBridge SendMessage to this queue: an
 * unconditional Allow naming the service (or `*`), and no unconditional Deny
 * covering it. Conditions on an Allow are not evaluated: such a statement
 * does not count, since EventBridge may not meet them.
 */
export function policyAllowsEventBridge(
  policyJson: string | undefined,
  queueArn: string,
): PolicyVerdict {
  if (policyJson === undefined || policyJson === "") {
    return { ok: false, reason: "the queue has no access policy" };
  }
  let statements: Statement[];
  try {
    const doc = JSON.parse(policyJson) as { Statement?: unknown };
    statements = (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]).filter(
      (s): s is Statement => typeof s === "object" && s !== null,
    );
  } catch {
    return { ok: false, reason: "the queue policy is not valid JSON" };
  }
  const covers = (s: Statement) =>
    namesPrincipal(s.Principal) && allowsSend(s.Action) && coversQueue(s.Resource, queueArn);
  const denied = statements.find(
    (s) => s.Effect === "Deny" && s.Condition === undefined && covers(s),
  );
  if (denied !== undefined) {
    return {
      ok: false,
      reason: `a Deny statement covers ${EVENTBRIDGE_PRINCIPAL} sqs:SendMessage`,
    };
  }
  if (statements.some((s) => s.Effect === "Allow" && s.Condition === undefined && covers(s))) {
    return { ok: true };
  }
  return {
    ok: false,
    reason: `no unconditional Allow of sqs:SendMessage for ${EVENTBRIDGE_PRINCIPAL} on this queue`,
  };
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function namesPrincipal(principal: unknown): boolean {
  if (principal === "*") return true;
  if (typeof principal !== "object" || principal === null) return false;
  const p = principal as Record<string, unknown>;
  return asList(p.Service).includes(EVENTBRIDGE_PRINCIPAL) || asList(p.AWS).includes("*");
}

function allowsSend(action: unknown): boolean {
  return asList(action).some(
    (a) => typeof a === "string" && ["*", "sqs:*", "sqs:sendmessage"].includes(a.toLowerCase()),
  );
}

function coversQueue(resource: unknown, queueArn: string): boolean {
  const list = asList(resource);
  return list.length === 0 || list.includes("*") || list.includes(queueArn);
}
