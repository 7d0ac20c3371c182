/** Label selection as Kubernetes and Istio define it: every selector label present with the same value. */

/** Whether `labels` carry every key/value of `selector` (an empty selector selects everything). */
export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}
