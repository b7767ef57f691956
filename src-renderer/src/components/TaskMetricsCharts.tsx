import { useId } from 'react';
import { TASK_STATES, type TaskMetrics } from '../../../src-shared/tasks.ts';
import { type BarInput, horizontalBars } from '../model/chart-scale.ts';
import { formatCost, formatCount, formatDuration, formatPercent, taskBadge } from '../model/tasks.ts';

/**
 * Task metrics as inline SVG bar charts: counts by state, success rate, duration p50/p95/p99 per
 * provider, tokens and cost. Every chart is an `img` with a title and a description that carries
 * all its numbers, and every bar has its number printed next to it.
 */
export function TaskMetricsCharts({ metrics, error }: { metrics: TaskMetrics | null; error: string | null }) {
  if (error)
    return (
      <p className="hint hint-warn" role="alert">
        Could not load task metrics: {error}
      </p>
    );
  if (!metrics) return <p className="muted">Loading metrics…</p>;
  const tokens = metrics.input_tokens + metrics.output_tokens + metrics.cache_read_tokens;
  return (
    <section className="task-metrics" aria-label="Task metrics">
      <dl className="metric-tiles">
        <div>
          <dt>Tasks</dt>
          <dd data-metric="total">{formatCount(metrics.total)}</dd>
        </div>
        <div>
          <dt>Success rate</dt>
          <dd data-metric="success-rate">{formatPercent(metrics.success_rate)}</dd>
        </div>
        <div>
          <dt>Duration p50 / p95 / p99</dt>
          <dd data-metric="duration">
            {formatDuration(metrics.duration_ms.p50)} / {formatDuration(metrics.duration_ms.p95)} /{' '}
            {formatDuration(metrics.duration_ms.p99)}
          </dd>
        </div>
        <div>
          <dt>Tokens (in / out / cache)</dt>
          <dd data-metric="tokens" title={`${formatCount(tokens)} tokens in all`}>
            {formatCount(metrics.input_tokens)} / {formatCount(metrics.output_tokens)} /{' '}
            {formatCount(metrics.cache_read_tokens)}
          </dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd data-metric="cost">{formatCost(metrics.cost_usd)}</dd>
        </div>
      </dl>
      <div className="chart-grid">
        <BarChart
          title="Tasks by state"
          testId="chart-states"
          data={TASK_STATES.map((s) => ({ label: taskBadge(s).label, value: metrics.counts[s] ?? 0 }))}
          classFor={(i) => `bar-${taskBadge(TASK_STATES[i]!).kind}`}
          format={formatCount}
        />
        <SuccessMeter rate={metrics.success_rate} />
        <BarChart
          title="Duration by provider (p50, p95, p99)"
          testId="chart-durations"
          empty="No finished runs yet."
          data={metrics.providers
            .filter((p) => p.duration_ms.count > 0)
            .flatMap((p) => [
              { label: `${p.cli_tool} p50`, value: p.duration_ms.p50 ?? 0 },
              { label: `${p.cli_tool} p95`, value: p.duration_ms.p95 ?? 0 },
              { label: `${p.cli_tool} p99`, value: p.duration_ms.p99 ?? 0 },
            ])}
          classFor={(i) => `bar-p${['50', '95', '99'][i % 3]}`}
          format={formatDuration}
        />
        <BarChart
          title="Tokens and cost by provider"
          testId="chart-usage"
          empty="No token usage reported yet."
          data={metrics.providers
            .filter((p) => p.input_tokens + p.output_tokens + p.cache_read_tokens > 0 || p.cost_usd > 0)
            .map((p) => ({
              label: p.cli_tool,
              value: p.input_tokens + p.output_tokens + p.cache_read_tokens,
              note: formatCost(p.cost_usd),
            }))}
          classFor={() => 'bar-tokens'}
          format={(n) => `${formatCount(n)} tok`}
        />
      </div>
    </section>
  );
}

const WIDTH = 360;
const LABEL_W = 104;
const VALUE_W = 96;
const ROW_H = 14;

function BarChart({
  title,
  data,
  classFor,
  format,
  testId,
  empty,
}: {
  title: string;
  data: (BarInput & { note?: string })[];
  classFor(index: number): string;
  format(value: number): string;
  testId: string;
  empty?: string;
}) {
  const id = useId();
  const layout = horizontalBars(data, {
    width: WIDTH,
    labelWidth: LABEL_W,
    valueWidth: VALUE_W,
    rowHeight: ROW_H,
  });
  const valueText = (d: BarInput & { note?: string }) =>
    d.note ? `${format(d.value)} · ${d.note}` : format(d.value);
  const description = data.map((d) => `${d.label}: ${valueText(d)}`).join('; ');
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption id={`${id}-title`}>{title}</figcaption>
      {data.length === 0 ? (
        <p className="muted">{empty ?? 'No data yet.'}</p>
      ) : (
        <svg
          role="img"
          aria-labelledby={`${id}-t ${id}-d`}
          viewBox={`0 0 ${WIDTH} ${layout.height}`}
          width="100%"
          className="chart-svg"
        >
          <title id={`${id}-t`}>{title}</title>
          <desc id={`${id}-d`}>{description}</desc>
          {layout.bars.map((bar, i) => (
            <g key={bar.label} data-label={bar.label} data-value={bar.value}>
              <text x={LABEL_W - 6} y={bar.y + ROW_H - 3} textAnchor="end" className="chart-label">
                {bar.label}
              </text>
              <rect
                x={bar.x}
                y={bar.y}
                width={layout.plotWidth}
                height={bar.height}
                className="chart-track"
                rx="2"
              />
              <rect
                x={bar.x}
                y={bar.y}
                width={bar.width}
                height={bar.height}
                className={`chart-bar ${classFor(i)}`}
                rx="2"
              />
              <text x={layout.plotX + layout.plotWidth + 5} y={bar.y + ROW_H - 3} className="chart-value">
                {valueText(data[i]!)}
              </text>
            </g>
          ))}
        </svg>
      )}
    </figure>
  );
}

function SuccessMeter({ rate }: { rate: number | null }) {
  const id = useId();
  const width = WIDTH - LABEL_W - VALUE_W;
  const filled = rate === null ? 0 : Math.max(0, Math.min(1, rate)) * width;
  const text = rate === null ? 'no decided tasks yet' : formatPercent(rate);
  // The value column is narrow: the sentence goes in the description and under the chart.
  const shown = rate === null ? 'n/a' : text;
  return (
    <figure className="chart" data-testid="chart-success">
      <figcaption>Success rate</figcaption>
      <svg
        role="img"
        aria-labelledby={`${id}-t ${id}-d`}
        viewBox={`0 0 ${WIDTH} ${ROW_H + 4}`}
        width="100%"
        className="chart-svg"
      >
        <title id={`${id}-t`}>Success rate</title>
        <desc id={`${id}-d`}>
          {`Success rate ${text}: passed out of passed, failed, error and timed out (cancelled tasks do not count).`}
        </desc>
        <text x={LABEL_W - 6} y={ROW_H - 1} textAnchor="end" className="chart-label">
          passed
        </text>
        <rect x={LABEL_W} y={0} width={width} height={ROW_H} className="chart-track" rx="2" />
        <rect x={LABEL_W} y={0} width={filled} height={ROW_H} className="chart-bar bar-passed" rx="2" />
        <text x={LABEL_W + width + 5} y={ROW_H - 1} className="chart-value">
          {shown}
        </text>
      </svg>
      {rate === null ? <p className="muted chart-note">No decided tasks yet.</p> : null}
    </figure>
  );
}
