/**
 * Shared libraries for Jenkinsfiles and gantry.yml. See docs/libraries.md.
 *
 * For a gantry.yml frontend: collect `libraries:` entries and `uses:` steps, `loadLibraries`
 * once (async: it may fetch with git), then `expandLibraryStep` each `uses:` (sync).
 */
export { isRemote, LIBRARIES_FILE, parseLibraryFlag, readLibrariesConfig } from "./config.js";
export {
  emptyLibraries,
  loadLibraries,
  type LibraryRequest,
  type LibraryVar,
  type LoadedLibraries,
} from "./load.js";
export {
  expandLibraryStep,
  parseUses,
  usesRequests,
  yamlVarSchema,
  type CompileYamlSteps,
  type LibraryStepCall,
} from "./yaml-step.js";
export { librarySources } from "./sources.js";
