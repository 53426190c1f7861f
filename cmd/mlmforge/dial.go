package main

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/cyclecore/mlmforge/worker"
)

// dialCluster connects to the Temporal frontend the cluster flags name.
func dialCluster(ctx context.Context, cf clusterFlags) (client.Client, error) {
	return worker.Dial(ctx, worker.DialConfig{Address: cf.address, Namespace: cf.namespace, TLS: cf.tls.TLSOptions})
}
