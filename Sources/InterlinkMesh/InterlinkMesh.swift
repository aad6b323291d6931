// The cluster mesh lives here (issue 3): the etcd v3 JSON-gateway client, the embedded store,
// the Cilium-compatible `ClusterService` wire format, the exporter and the remote-cluster
// watchers. Empty until then: the single-cluster agent does not depend on anything in it.
