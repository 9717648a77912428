/**
 * A small, dependency-free SVG chart: panels of lines on log-log axes.
 */

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly dashed?: boolean;
  /** [x, y]; y ≤ 0 is drawn on the panel's floor and labelled "0". */
  readonly points: readonly (readonly [number, number])[];
  /** Optional note per point (e.g. "60 failed"), drawn beside the marker. */
  readonly notes?: readonly (string | undefined)[];
}

export interface Panel {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
}

const PANEL_W = 460;
const PANEL_H = 340;
const M = { left: 64, right: 18, top: 36, bottom: 78 };

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
  return out;
}

function formatTick(value: number): string {
  if (value >= 1000) return `${value / 1000}k`;
  if (value < 1) return String(Number(value.toPrecision(1)));
  return String(value);
}

function panelSvg(panel: Panel, offsetX: number): string {
  const xs = panel.series.flatMap((s) => s.points.map(([x]) => x));
  const positives = panel.series.flatMap((s) => s.points.map(([, y]) => y)).filter((y) => y > 0);
  const xTicks = decades(Math.min(...xs), Math.max(...xs));
  const yTicks = decades(Math.min(...positives) / 2, Math.max(...positives) * 1.5);
  const [x0, x1] = [Math.log10(xTicks[0] as number), Math.log10(xTicks.at(-1) as number)];
  const [y0, y1] = [Math.log10(yTicks[0] as number), Math.log10(yTicks.at(-1) as number)];
  const w = PANEL_W - M.left - M.right;
  const h = PANEL_H - M.top - M.bottom;
  const round = (v: number) => Math.round(v * 10) / 10;
  const px = (x: number) => round(offsetX + M.left + ((Math.log10(x) - x0) / (x1 - x0 || 1)) * w);
  const py = (y: number) =>
    round(M.top + h - ((Math.log10(Math.max(y, yTicks[0] as number)) - y0) / (y1 - y0 || 1)) * h);
  const parts: string[] = [];
  parts.push(
    `<text x="${offsetX + PANEL_W / 2}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(panel.title)}</text>`,
  );
  for (const t of xTicks) {
    parts.push(
      `<line x1="${px(t)}" y1="${M.top}" x2="${px(t)}" y2="${M.top + h}" stroke="#ddd"/>`,
      `<text x="${px(t)}" y="${M.top + h + 16}" text-anchor="middle">${formatTick(t)}</text>`,
    );
  }
  for (const t of yTicks) {
    parts.push(
      `<line x1="${offsetX + M.left}" y1="${py(t)}" x2="${offsetX + M.left + w}" y2="${py(t)}" stroke="#ddd"/>`,
      `<text x="${offsetX + M.left - 6}" y="${py(t) + 4}" text-anchor="end">${t === yTicks[0] ? `≤${formatTick(t)}` : formatTick(t)}</text>`,
    );
  }
  parts.push(
    `<rect x="${offsetX + M.left}" y="${M.top}" width="${w}" height="${h}" fill="none" stroke="#444"/>`,
    `<text x="${offsetX + M.left + w / 2}" y="${M.top + h + 34}" text-anchor="middle">${escapeXml(panel.xLabel)}</text>`,
    `<text transform="translate(${offsetX + 16} ${M.top + h / 2}) rotate(-90)" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`,
  );
  panel.series.forEach((s, i) => {
    const path = s.points.map(([x, y], j) => `${j === 0 ? "M" : "L"}${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    parts.push(
      `<path d="${path.join(" ")}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
    );
    s.points.forEach(([x, y], j) => {
      parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
      const note = s.notes?.[j];
      if (note) {
        parts.push(
          `<text x="${(px(x) + 6).toFixed(1)}" y="${(py(y) - 6).toFixed(1)}" fill="${s.color}" font-size="11">${escapeXml(note)}</text>`,
        );
      }
    });
    const ly = M.top + h + 50 + Math.floor(i / 2) * 16;
    const lx = offsetX + M.left + (i % 2) * (w / 2);
    parts.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 22}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
      `<text x="${lx + 28}" y="${ly}" font-size="11">${escapeXml(s.label)}</text>`,
    );
  });
  return parts.join("\n");
}

/** Panels side by side in one SVG document. */
export function renderChart(panels: readonly Panel[], caption: string): string {
  const width = PANEL_W * panels.length;
  const height = PANEL_H + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...panels.map((panel, i) => panelSvg(panel, i * PANEL_W)),
    `<text x="8" y="${height - 6}" font-size="10" fill="#555">${escapeXml(caption)}</text>`,
    "</svg>",
    "",
  ].join("\n");
}
