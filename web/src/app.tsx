import { Suspense, useEffect, useState } from "react";
import { Link, Redirect, Route, Switch, useLocation } from "wouter";
import { getToken, setToken } from "./api/token.ts";
import { useTheme, type Theme } from "./theme.ts";
import { SignIn } from "./pages/sign-in.tsx";
import { Projects } from "./pages/projects.tsx";
import { Pipelines } from "./pages/pipelines.tsx";
import { RunPipeline } from "./pages/run-pipeline.tsx";
import { PipelinePage } from "./pages/pipeline.tsx";
import { Runners } from "./pages/runners.tsx";
import { Secrets } from "./pages/secrets.tsx";
import { Tokens } from "./pages/tokens.tsx";
// Eager on purpose: behind a Suspense boundary React 19 holds a revealed page back for up to
// 300 ms, and the job page's first request (and so its log) would wait for that.
import JobPage from "./pages/job.tsx";

function useSignedIn(): boolean {
  const [token, set] = useState(getToken());
  useEffect(() => {
    const on = () => set(getToken());
    window.addEventListener("gantry:auth", on);
    window.addEventListener("storage", on);
    return () => {
      window.removeEventListener("gantry:auth", on);
      window.removeEventListener("storage", on);
    };
  }, []);
  return token !== null;
}

const NEXT_THEME: Record<Theme, Theme> = { system: "light", light: "dark", dark: "system" };

function Header() {
  const [theme, setTheme] = useTheme();
  const [location] = useLocation();
  const nav = [
    ["/", "Projects"],
    ["/runners", "Runners"],
    ["/secrets", "Secrets"],
    ["/tokens", "Tokens"],
  ] as const;
  const current = (href: string) =>
    href === "/"
      ? location === "/" ||
        location.startsWith("/projects") ||
        location.startsWith("/pipelines") ||
        location.startsWith("/jobs")
      : location.startsWith(href);
  return (
    <header className="top">
      <Link href="/" className="brand" aria-label="Gantry home">
        <span className="logo" aria-hidden="true">
          G
        </span>
        Gantry
      </Link>
      <nav aria-label="Main">
        {nav.map(([href, label]) => (
          <Link key={href} href={href} aria-current={current(href) ? "page" : undefined}>
            {label}
          </Link>
        ))}
      </nav>
      <span className="spacer" />
      <button
        type="button"
        className="ghost"
        onClick={() => setTheme(NEXT_THEME[theme])}
        title="Switch theme"
        data-testid="theme-toggle"
      >
        Theme: {theme}
      </button>
      <button type="button" className="ghost" onClick={() => setToken(null)}>
        Sign out
      </button>
    </header>
  );
}

/** The whole UI: a sign-in gate, the header and one route per page. */
export function App() {
  const signedIn = useSignedIn();
  if (!signedIn) {
    return (
      <>
        <a className="skip" href="#main">
          Skip to content
        </a>
        <main id="main">
          <SignIn />
        </main>
      </>
    );
  }
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="muted">Loading…</p>}>
          <Switch>
            <Route path="/" component={Projects} />
            <Route path="/sign-in">
              <Redirect to="/" />
            </Route>
            <Route path="/projects/:name/run">
              {(p) => <RunPipeline project={decodeURIComponent(p.name)} />}
            </Route>
            <Route path="/projects/:name">{(p) => <Pipelines project={decodeURIComponent(p.name)} />}</Route>
            <Route path="/pipelines/:id">{(p) => <PipelinePage id={Number(p.id)} />}</Route>
            <Route path="/jobs/:id">{(p) => <JobPage id={Number(p.id)} />}</Route>
            <Route path="/runners" component={Runners} />
            <Route path="/secrets" component={Secrets} />
            <Route path="/tokens" component={Tokens} />
            <Route>
              <h1>Not found</h1>
              <p>
                <Link href="/">Back to projects</Link>
              </p>
            </Route>
          </Switch>
        </Suspense>
      </main>
    </>
  );
}
