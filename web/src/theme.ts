import { useEffect, useState } from "react";

/** `system` follows `prefers-color-scheme`; the others override it. */
export type Theme = "system" | "light" | "dark";
const KEY = "gantry.theme";

/** The saved theme and a setter that applies it to `<html data-theme>`. */
export function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(() => {
    const t = localStorage.getItem(KEY);
    return t === "light" || t === "dark" ? t : "system";
  });
  useEffect(() => {
    const el = document.documentElement;
    if (theme === "system") {
      delete el.dataset.theme;
      localStorage.removeItem(KEY);
    } else {
      el.dataset.theme = theme;
      localStorage.setItem(KEY, theme);
    }
  }, [theme]);
  return [theme, setTheme];
}
