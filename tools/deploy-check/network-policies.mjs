// NetworkPolicy semantics (networking.k8s.io/v1), enough to compute which connections a render allows:
// which pods a policy isolates, which peers and ports its rules admit; then the checks of Overture's
// policies against its call graph. Used by validate.mjs.
import { fail } from './problems.mjs';

/** A connection's far end outside the cluster: any IP address. */
const ANY_ADDRESS = Object.freeze({ address: 'any' });

/** LabelSelector semantics: an empty selector selects everything. */
function selects(selector, labels = {}) {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return key in labels && values.includes(labels[key]);
      case 'NotIn':
        return !(key in labels) || !values.includes(labels[key]);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        return false;
    }
  });
  return byLabels && byExpressions;
}

/** Whether a selector selects everything ({}, no labels and no expressions). */
function isEmptySelector(selector) {
  return !!selector && Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/** The directions a policy isolates: policyTypes, or by default Ingress, plus Egress when it has egress rules. */
function policyTypes(policy) {
  const types = policy.spec?.policyTypes;
  if (types?.length) return types;
  return policy.spec?.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

/**
 * Whether one peer of a rule (from/to entry) matches a target: a pod { namespace, namespaceLabels,
 * labels } or ANY_ADDRESS. Whether an ipBlock applies to pod addresses is up to the network plugin,
 * so for pods it counts as a match (the conservative reading); for ANY_ADDRESS only a block of every
 * address without exceptions does.
 */
function peerMatches(peer, target, policyNamespace) {
  if (peer.ipBlock) {
    if (target === ANY_ADDRESS) return ['0.0.0.0/0', '::/0'].includes(peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).length;
    return true;
  }
  if (target === ANY_ADDRESS) return false;
  if (peer.namespaceSelector) {
    return selects(peer.namespaceSelector, target.namespaceLabels) && (!peer.podSelector || selects(peer.podSelector, target.labels));
  }
  return !!peer.podSelector && target.namespace === policyNamespace && selects(peer.podSelector, target.labels);
}

/** A rule's ports against { number, name, protocol }; a named port is the destination pod's port name. */
function portMatches(rulePorts, port) {
  if (!rulePorts?.length) return true;
  return rulePorts.some((p) => {
    if ((p.protocol ?? 'TCP') !== port.protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') return p.port === port.name;
    return p.endPort ? port.number >= p.port && port.number <= p.endPort : port.number === p.port;
  });
}

/** The rules of one direction that apply to a pod, or undefined when no policy isolates it that way. */
function rulesFor(policies, direction, pod) {
  const type = direction === 'ingress' ? 'Ingress' : 'Egress';
  const applying = policies.filter(
    (np) => np.metadata.namespace === pod.namespace && policyTypes(np).includes(type) && selects(np.spec?.podSelector, pod.labels),
  );
  if (applying.length === 0) return undefined;
  return applying.flatMap((np) => (np.spec?.[direction] ?? []).map((rule) => ({ rule, policy: np })));
}

/**
 * Whether `pod`'s policies of `direction` let it talk to `peer` on `port` (for egress, the port of the
 * peer; for ingress, the pod's own). Only this side: a connection needs the other side's too.
 */
function allows(policies, direction, pod, peer, port) {
  const rules = rulesFor(policies, direction, pod);
  if (!rules) return true;
  const peersKey = direction === 'ingress' ? 'from' : 'to';
  return rules.some(({ rule, policy }) => {
    const peers = rule[peersKey];
    const peerOk = !peers?.length || peers.some((p) => peerMatches(p, peer, policy.metadata.namespace));
    return peerOk && portMatches(rule.ports, port);
  });
}

/** Rules of `direction` applying to `pod` that admit `port`, each with the peers it names. */
function rulesOnPort(policies, direction, pod, port) {
  const peersKey = direction === 'ingress' ? 'from' : 'to';
  return (rulesFor(policies, direction, pod) ?? [])
    .filter(({ rule }) => portMatches(rule.ports, port))
    .map(({ rule, policy }) => ({ rule, policy, peers: rule[peersKey] ?? [] }));
}

/** Whether a rule's peers reach any address at all (no peers, or an ipBlock). */
function reachesAddresses(peers) {
  return peers.length === 0 || peers.some((p) => p.ipBlock);
}

/** Whether a rule's peers reach beyond `namespace` (addresses, or a namespaceSelector not naming just it). */
function reachesBeyond(peers, namespace) {
  return (
    reachesAddresses(peers) ||
    peers.some(
      (p) =>
        p.namespaceSelector &&
        (p.namespaceSelector.matchExpressions?.length || p.namespaceSelector.matchLabels?.['kubernetes.io/metadata.name'] !== namespace),
    )
  );
}

/** cluster DNS as the default-deny must still let every pod reach it. */
const KUBE_DNS = {
  namespace: 'kube-system',
  namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
  labels: { 'k8s-app': 'kube-dns' },
};
const DNS_PORTS = [
  { number: 53, name: 'dns', protocol: 'UDP' },
  { number: 53, name: 'dns-tcp', protocol: 'TCP' },
];
const POSTGRES_PORT = { number: 5432, name: 'postgresql', protocol: 'TCP' };
/** Prometheus as the cluster's monitoring stack runs it: a pod in namespace `monitoring`. */
const PROMETHEUS = {
  namespace: 'monitoring',
  namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
  labels: { 'app.kubernetes.io/name': 'prometheus' },
};

const portLabel = (p) => `${p.number}${p.name ? ` (${p.name})` : ''}`;

/**
 * The render's NetworkPolicies against the call graph: everything denied by default; between Overture
 * pods exactly the graph's connections (caller's egress and callee's ingress), each to the callee's
 * gRPC port; the gRPC ports closed to everything else; DNS for every pod, PostgreSQL (any address,
 * TCP 5432) for those that own a database and nothing else beyond the cluster; the gateway's HTTP port
 * open to the way in; every health port open to the kubelet; the ops port (metrics, profiles) open to
 * Prometheus in namespace `monitoring` and never to any address.
 */
export function checkNetworkPolicies({ render, objects, apps, callGraph }) {
  const at = `[${render}] NetworkPolicy`;
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
  const namespaces = new Map(objects.filter((o) => o.kind === 'Namespace').map((n) => [n.metadata.name, n]));

  for (const type of ['Ingress', 'Egress']) {
    const field = type.toLowerCase();
    const denies = policies.some(
      (np) => isEmptySelector(np.spec?.podSelector) && policyTypes(np).includes(type) && !(np.spec?.[field] ?? []).length,
    );
    if (!denies) fail(at, `no default-deny for ${type} (a policy with podSelector {}, policyTypes [${type}] and no ${field} rules)`);
  }

  const pods = objects
    .filter((o) => o.kind === 'Deployment' && apps[o.metadata.name])
    .map((d) => {
      const namespace = d.metadata.namespace;
      const spec = apps[d.metadata.name];
      const ports = (d.spec?.template?.spec?.containers ?? [])
        .flatMap((c) => c.ports ?? [])
        .map((p) => ({ number: p.containerPort, name: p.name, protocol: p.protocol ?? 'TCP' }));
      return {
        app: d.metadata.name,
        spec,
        namespace,
        namespaceLabels: { ...namespaces.get(namespace)?.metadata?.labels, 'kubernetes.io/metadata.name': namespace },
        labels: d.spec?.template?.metadata?.labels ?? {},
        ports,
        main: ports.find((p) => p.name === spec.protocol),
      };
    });
  const expected = new Set(pods.flatMap((src) => (callGraph[src.app] ?? []).map((callee) => `${src.app} -> ${callee}`)));

  // Between Overture pods: every (caller, callee, port), replicas of one app included.
  for (const src of pods) {
    for (const dst of pods) {
      for (const port of dst.ports) {
        const inGraph = expected.has(`${src.app} -> ${dst.app}`) && port === dst.main;
        const egress = allows(policies, 'egress', src, dst, port);
        const ingress = allows(policies, 'ingress', dst, src, port);
        const flow = `${src.app} -> ${dst.app}:${portLabel(port)}`;
        if (inGraph && !(egress && ingress)) {
          const closed = [!egress && `${src.app}'s egress`, !ingress && `${dst.app}'s ingress`].filter(Boolean).join(' and ');
          fail(at, `${flow} is in the call graph, but ${closed} does not allow it`);
        } else if (!inGraph && egress && ingress) {
          fail(at, `${flow} is allowed, but is not in the call graph`);
        } else if (!inGraph && egress) {
          fail(
            at,
            `${src.app}'s egress allows ${dst.app}:${portLabel(port)}, which is not in the call graph (only ${dst.app}'s ingress stops it)`,
          );
        } else if (!inGraph && ingress && port === dst.main && dst.spec.protocol === 'grpc') {
          fail(
            at,
            `${dst.app}'s ingress admits ${src.app} on its gRPC port ${portLabel(port)}, which is not in the call graph (only ${src.app}'s egress stops it)`,
          );
        }
      }
    }
  }

  for (const pod of pods) {
    const where = `${at} (pod ${pod.app})`;
    if (pod.main && pod.spec.protocol === 'grpc') {
      for (const { policy } of rulesOnPort(policies, 'ingress', pod, pod.main).filter(({ peers }) => reachesBeyond(peers, pod.namespace))) {
        fail(
          where,
          `policy ${policy.metadata.name} opens the gRPC port ${portLabel(pod.main)} beyond the namespace: only its callers may reach it`,
        );
      }
      const health = pod.ports.find((p) => p.name === 'health');
      if (health && !allows(policies, 'ingress', pod, ANY_ADDRESS, health))
        fail(where, `the health port ${portLabel(health)} must admit any address (the kubelet's probes)`);
    }
    if (
      pod.main &&
      pod.spec.protocol === 'http' &&
      !rulesOnPort(policies, 'ingress', pod, pod.main).some(({ peers }) => reachesBeyond(peers, pod.namespace))
    ) {
      fail(where, `nothing outside the namespace may reach the HTTP port ${portLabel(pod.main)}: the gateway is the way in`);
    }
    const ops = pod.ports.find((p) => p.name === 'ops');
    if (ops && !allows(policies, 'ingress', pod, PROMETHEUS, ops))
      fail(where, `the ops port ${portLabel(ops)} must admit Prometheus (pods in namespace monitoring): it serves the metrics`);
    if (ops && allows(policies, 'ingress', pod, ANY_ADDRESS, ops))
      fail(where, `the ops port ${portLabel(ops)} admits any address: it serves profiles and metrics, for the cluster only`);
    for (const port of DNS_PORTS) {
      if (!allows(policies, 'egress', pod, KUBE_DNS, port))
        fail(where, `egress to DNS (kube-dns in kube-system, ${port.protocol} 53) is not allowed`);
    }
    if (pod.spec.migrates && !allows(policies, 'egress', pod, ANY_ADDRESS, POSTGRES_PORT)) {
      fail(where, 'egress to PostgreSQL (any address, TCP 5432) is not allowed');
    }
    for (const { rule, policy } of rulesFor(policies, 'egress', pod) ?? []) {
      if (!reachesAddresses(rule.to ?? [])) continue;
      const postgresOnly =
        (rule.ports ?? []).length > 0 &&
        rule.ports.every((p) => p.port === POSTGRES_PORT.number && (p.protocol ?? 'TCP') === 'TCP' && !p.endPort);
      if (!postgresOnly || !pod.spec.migrates) {
        fail(
          where,
          `policy ${policy.metadata.name} lets it reach addresses beyond the cluster${postgresOnly ? '' : ' on other ports than TCP 5432'}: only PostgreSQL, and only for apps that own a database`,
        );
      }
    }
  }
}
