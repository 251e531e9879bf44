import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, type Stats } from "node:fs";
import path from "node:path";
import { writeFileWithMode, type TreeSnapshot } from "./files.js";

/**
 * Workspaces of small projects kept between runs: one per job name, in a pool folder, each
 * holding the project's files only. A job's next run takes its folder from the pool (a rename,
 * so two runs at once never share one), makes it match the project again and gives it back
 * when the job ends, after moving what the job made aside for removal.
 *
 * Why: creating a folder and a file per job, and deleting them after the run, is most of the
 * file-system work of a run of many short jobs. On ext4 without a journal the kernel skips,
 * one by one, every inode deleted in the last minute when it allocates a new one, so that
 * work grows with what this and other programs deleted recently (10–30 ms for 50 jobs after
 * a gitlab-ci-local run here). GitLab's runners and gitlab-ci-local keep their build folders
 * between jobs in the same way.
 *
 * Only for trees read into memory (`readSmallTree`): checking a folder against one costs a
 * directory listing and a `lstat` per file.
 */
export class WorkspacePool {
  private readonly trash: string;
  private trashCount = 0;
  private trashReady = false;
  private rootReady = false;
  private poolOk: boolean | undefined;

  /**
   * @param dir the pool folder (`.gantry/builds/idle`)
   * @param root the run's workspace root: workspaces are `<root>/<slug>`, and what jobs left
   *   is moved to `<root>/.trash` (slugs never start with a dot), removed with the root
   */
  constructor(
    readonly dir: string,
    private readonly root: string,
  ) {
    this.trash = path.join(root, ".trash");
  }

  /**
   * Makes `workspace` (`<root>/<slug>`, which must not exist) from the pool's folder for
   * `slug`, matching `tree`; false if the pool had none or it could not be reset.
   */
  claim(slug: string, workspace: string, tree: TreeSnapshot): boolean {
    if (!this.rootReady) {
      mkdirSync(this.root, { recursive: true });
      this.rootReady = true;
    }
    if (!this.trusted()) return false;
    try {
      renameSync(path.join(this.dir, slug), workspace);
    } catch {
      return false; // none idle, or another run took it first
    }
    try {
      // A folder, not a link to one: pruning follows nothing outside the run's own folders.
      if (!realDir(workspace)) throw new Error("not a folder");
      const kept = this.prune(workspace, tree, true);
      for (const d of tree.dirs) mkdirSync(path.join(workspace, d), { recursive: true });
      for (const f of tree.files) {
        const file = path.join(workspace, f.path);
        const st = kept.get(f.path);
        // Unchanged files stay: reading a small file costs less than rewriting it.
        if (st?.size === f.data.length && readFileSync(file).equals(f.data)) {
          if ((st.mode & 0o7777) !== f.mode) chmodSync(file, f.mode);
        } else writeFileWithMode(file, f.data, f.mode);
      }
      return true;
    } catch {
      try {
        this.moveAside(workspace);
      } catch {
        // Left where it is: the caller empties it.
      }
      return false;
    }
  }

  /** Gives a job's finished workspace back, without what the job made; false if not kept. */
  release(slug: string, workspace: string, tree: TreeSnapshot): boolean {
    if (!this.trusted()) return false;
    try {
      this.prune(workspace, tree, false);
    } catch {
      return false; // left for removal with the run's workspaces
    }
    const idle = path.join(this.dir, slug);
    try {
      renameSync(workspace, idle);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") return false; // another run's is there
    }
    try {
      mkdirSync(this.dir, { recursive: true });
      renameSync(workspace, idle);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Whether the pool folder is a real folder (or absent): a symbolic link there (say, one a
   * repository brought along) must not make Gantry move and delete files elsewhere.
   */
  private trusted(): boolean {
    this.poolOk ??= (() => {
      try {
        return realDir(this.dir);
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === "ENOENT";
      }
    })();
    return this.poolOk;
  }

  /** Moves aside the kept workspaces of jobs other than `slugs`, to be removed with the root. */
  retain(slugs: ReadonlySet<string>): void {
    if (!this.trusted()) return;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return; // no pool yet
    }
    for (const name of names) {
      if (slugs.has(name)) continue;
      try {
        this.moveAside(path.join(this.dir, name));
      } catch {
        // Taken by another run meanwhile.
      }
    }
  }

  /**
   * Moves aside every entry of `workspace` that is not one of the tree's folders or plain files
   * (what a job made, a symlink or folder in a file's place), and files with other hard links
   * (rewriting them in place would change another file; checked when `stat`, as the files kept
   * are then rewritten).
   */
  private prune(workspace: string, tree: TreeSnapshot, stat: boolean): Map<string, Stats> {
    const want = entriesOf(tree);
    const kept = new Map<string, Stats>();
    const pending = [""];
    while (pending.length > 0) {
      const rel = pending.pop()!;
      for (const ent of readdirSync(path.join(workspace, rel), { withFileTypes: true })) {
        const r = rel === "" ? ent.name : `${rel}/${ent.name}`;
        const kind = want.get(r);
        if (kind === "dir" && ent.isDirectory()) {
          pending.push(r);
          continue;
        }
        if (kind === "file" && ent.isFile()) {
          if (!stat) continue;
          const st = lstatSync(path.join(workspace, r));
          if (st.nlink === 1) {
            kept.set(r, st);
            continue;
          }
        }
        this.moveAside(path.join(workspace, r));
      }
    }
    return kept;
  }

  private moveAside(p: string): void {
    if (!this.trashReady) {
      mkdirSync(this.trash, { recursive: true });
      this.trashReady = true;
    }
    renameSync(p, path.join(this.trash, String(++this.trashCount)));
  }
}

function realDir(p: string): boolean {
  const st = lstatSync(p);
  return st.isDirectory() && !st.isSymbolicLink();
}

/** The tree's folders (every ancestor of a file) and files, by path relative to its root. */
const entriesCache = new WeakMap<TreeSnapshot, Map<string, "dir" | "file">>();
function entriesOf(tree: TreeSnapshot): Map<string, "dir" | "file"> {
  let m = entriesCache.get(tree);
  if (m) return m;
  m = new Map();
  for (const f of tree.files) {
    m.set(f.path, "file");
    for (let d = path.posix.dirname(f.path); d !== "."; d = path.posix.dirname(d)) m.set(d, "dir");
  }
  entriesCache.set(tree, m);
  return m;
}
