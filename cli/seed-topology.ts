// The seed topology's deploy and waits are the runner's (runner/seed-topology.ts); kept here for older imports.
export { applySeedTopology, EPP_DEPLOYMENT, SCHEDULER_NS, SEED_MANIFESTS } from '../runner/seed-topology.ts';
