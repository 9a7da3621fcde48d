/** The cluster's nodes as queue mode's informer would index them, held in a table. */
import type { NodeLookup } from "../../src/sources/queue/resolve.ts";

export class NodeTable implements NodeLookup {
  readonly byInstance = new Map<string, string>();
  readonly names = new Set<string>();
  readonly ready = new Set<string>();
  /** How often the consumer asked whether each node is Ready. */
  readonly readyChecks = new Map<string, number>();

  nodeForInstance(id: string) {
    return this.byInstance.get(id);
  }
  hasNode(name: string) {
    return this.names.has(name);
  }
  isReady(name: string) {
    this.readyChecks.set(name, (this.readyChecks.get(name) ?? 0) + 1);
    return this.ready.has(name);
  }
  /** A node, found by its provider ID when `instanceId` is given, Ready unless told otherwise. */
  add(instanceId: string | undefined, name: string, ready = true) {
    if (instanceId) this.byInstance.set(instanceId, name);
    this.names.add(name);
    if (ready) this.ready.add(name);
  }
}
