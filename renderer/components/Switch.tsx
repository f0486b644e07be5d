/** An on/off switch: a real button with role="switch", so keyboard and screen readers handle it. */
export function Switch({
  checked,
  label,
  onChange,
  disabled = false,
  describedBy,
}: {
  checked: boolean;
  label: string;
  onChange(next: boolean): void;
  disabled?: boolean;
  describedBy?: string;
}) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      aria-label={label}
      aria-describedby={describedBy}
      className="switch"
      disabled={disabled}
      onClick={() => onChange(!checked)}
    >
      <span className="switch-thumb" aria-hidden="true" />
    </button>
  );
}
