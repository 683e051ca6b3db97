import uPlot from 'uplot';
import type { Series } from './series.js';

export interface ChartSpec {
  title: string;
  series: { label: string; color: string; unit: string; scale?: string }[];
  /** Fixed y range for the default scale (e.g. 0-100 for scores). */
  range?: [number, number];
}

const AXIS = {
  stroke: '#8b98a5',
  grid: { stroke: '#263038', width: 1 },
  ticks: { stroke: '#263038' },
};

/**
 * A uPlot chart bound to a Series and its container: sized to the
 * container (phone to desktop), redrawn from the series on demand.
 */
export class Chart {
  private readonly plot: uPlot;

  constructor(
    private readonly container: HTMLElement,
    spec: ChartSpec,
    private readonly source: () => Series,
    /** A fixed time window in epoch ms (a past range), or null to fit the data. */
    private readonly xWindow: () => [number, number] | null = () => null,
  ) {
    const scales: uPlot.Scales = { x: { time: true } };
    if (spec.range) scales['y'] = { range: spec.range };
    const rightScale = spec.series.find((s) => s.scale)?.scale;
    const axes: uPlot.Axis[] = [{ ...AXIS }, { ...AXIS, size: 48 }];
    if (rightScale)
      axes.push({ ...AXIS, scale: rightScale, side: 1, size: 48, grid: { show: false } });
    this.plot = new uPlot(
      {
        title: spec.title,
        width: this.width(),
        height: this.height(),
        scales,
        axes,
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
        series: [
          {},
          ...spec.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            spanGaps: false,
            ...(s.scale ? { scale: s.scale } : {}),
            value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${v.toFixed(2)}${s.unit}`),
          })),
        ],
      },
      this.source().columns() as uPlot.AlignedData,
      container,
    );
    new ResizeObserver(() =>
      this.plot.setSize({ width: this.width(), height: this.height() }),
    ).observe(container);
  }

  redraw(): void {
    const s = this.source();
    const w = this.xWindow();
    this.plot.setData(s.columns() as uPlot.AlignedData, w === null);
    if (w) this.plot.setScale('x', { min: w[0] / 1000, max: w[1] / 1000 });
    else if (s.length === 1) {
      // One point (a strategy's first update, or a whole backfill conflated
      // into one): uPlot's own range for a zero span is years wide and its
      // labels miss the point; centre an hour on it instead.
      const x = (s.columns()[0] as number[])[0]!;
      this.plot.setScale('x', { min: x - 1800, max: x + 1800 });
    }
    this.container.dataset['points'] = String(s.length);
  }

  private width(): number {
    return Math.max(240, this.container.clientWidth);
  }

  private height(): number {
    return this.container.clientWidth < 500 ? 180 : 220;
  }
}
