import { formatDateTime } from '../shared/format';

/**
 * The gate's reason as it reads after its decision ("Promoted · …"): the worker writes the decision into the reason too
 * ("promoted: gini 0.61 > BGNBD-GG 0.58", "kept out: …"), which after the decision's own word read twice. A reason
 * that says more than the decision ("in place of TF-VALUE, kept out: … — promoted: …") is kept whole.
 */
export function gateReasonText(version: { isPromoted: boolean | null; gateReason: string | null }): string | null {
  const reason = version.gateReason?.trim();
  if (!reason) return null;
  const decision = version.isPromoted === true ? 'promoted: ' : version.isPromoted === false ? 'kept out: ' : null;
  const rest = decision && reason.toLowerCase().startsWith(decision) ? reason.slice(decision.length).trim() : reason;
  return rest || null;
}

/**
 * When a training job in the list happens: a delayed one (the nightly retrain's next firing, a retry after its
 * backoff) when it will run, every other one when it was queued.
 */
export function jobWhen(job: { state: string; createdAt: string; runAt?: string | null }): string {
  return job.state === 'DELAYED' && job.runAt ? `Runs ${formatDateTime(job.runAt)}` : `Queued ${formatDateTime(job.createdAt)}`;
}
