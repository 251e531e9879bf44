import Anser from "anser";

/** A run of text with one style. */
export interface Span {
  text: string;
  /** CSS classes: `ansi-red-fg`, `ansi-bold`... (the 16 colours follow the theme). */
  className: string;
  color?: string;
  background?: string;
}

/** The xterm 256-colour palette entry `n` (16..255) as CSS. */
export function paletteColor(n: number): string {
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const step = (c: number) => (c === 0 ? 0 : 55 + c * 40);
  return `rgb(${step(Math.floor(i / 36))},${step(Math.floor(i / 6) % 6)},${step(i % 6)})`;
}

function colour(cls: string | null, truecolor: string | null): { className?: string; css?: string } {
  if (!cls) return {};
  if (cls === "ansi-truecolor" && truecolor) return { css: `rgb(${truecolor})` };
  const m = /^ansi-palette-(\d+)$/.exec(cls);
  if (m) return { css: paletteColor(Number(m[1])) };
  return { className: cls };
}

/** Splits one line with ANSI SGR codes into styled spans. */
export function ansiSpans(raw: string): Span[] {
  if (!raw.includes("\x1b")) return [{ text: raw, className: "" }];
  const out: Span[] = [];
  for (const e of Anser.ansiToJson(raw, { use_classes: true, remove_empty: true })) {
    const classes: string[] = [];
    const fg = colour(e.fg, e.fg_truecolor);
    const bg = colour(e.bg, e.bg_truecolor);
    if (fg.className) classes.push(`${fg.className}-fg`);
    if (bg.className) classes.push(`${bg.className}-bg`);
    for (const d of e.decorations) classes.push(`ansi-${d}`);
    const span: Span = { text: e.content, className: classes.join(" ") };
    if (fg.css) span.color = fg.css;
    if (bg.css) span.background = bg.css;
    out.push(span);
  }
  return out;
}
