import { formatBytes } from '../format.ts';

/** A used-of-total bar (memory, VRAM) with its figures in words for screen readers. */
export function Gauge({ label, used, total }: { label: string; used: number; total: number }) {
  const fraction = total > 0 ? Math.min(1, Math.max(0, used / total)) : 0;
  const percent = Math.round(fraction * 100);
  const level = fraction >= 0.9 ? 'down' : fraction >= 0.75 ? 'degraded' : 'ok';
  const text = `${formatBytes(used)} of ${formatBytes(total)} (${percent}%)`;
  return (
    <div className="gauge">
      <div className="gauge-label">
        <span>{label}</span>
        <span className="muted">{text}</span>
      </div>
      <div
        className="gauge-track"
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={text}
      >
        <div className={`gauge-fill status-${level}`} style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}
