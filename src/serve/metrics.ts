// Prometheus metrics of the API (prom-client, one registry per server so that several can share a process):
// requests by route and status, request latency, batch sizes and run times, queue depth, posts predicted,
// and the process's own metrics (memory, CPU, event-loop lag).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'tandem_http_requests_total',
    help: 'HTTP requests answered, by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'tandem_http_request_duration_seconds',
    help: 'Time from the request to the end of its answer, by route',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'tandem_batch_size',
    help: 'Posts per forward pass',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });
  readonly batchSeconds = new Histogram({
    name: 'tandem_batch_duration_seconds',
    help: 'Time to batch and predict one batch',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'tandem_queue_depth',
    help: 'Posts waiting for the model',
    registers: [this.registry],
  });
  readonly posts = new Counter({
    name: 'tandem_posts_predicted_total',
    help: 'Posts predicted (rate() of it gives posts/s)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tandem_' });
  }
}
