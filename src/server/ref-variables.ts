/**
 * The ref variables of a server job, by how the pipeline's ref resolved. A tag sets GitLab's
 * `CI_COMMIT_TAG` and Jenkins' `TAG_NAME`, and `BRANCH_NAME` to the tag as Jenkins
 * multibranch tag builds do, but no `CI_COMMIT_BRANCH` or `GIT_BRANCH`; a bare commit sets
 * neither. `kind` null (pipelines stored before ref kinds were recorded) counts as a branch.
 */
export function refVariables(ref: string, kind: string | null): Record<string, string> {
  const common = {
    CI_COMMIT_REF_NAME: ref,
    CI_COMMIT_REF_SLUG: ref
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 63),
  };
  if (kind === "tag") return { ...common, CI_COMMIT_TAG: ref, TAG_NAME: ref, BRANCH_NAME: ref };
  if (kind === "commit") return common;
  return { ...common, CI_COMMIT_BRANCH: ref, GIT_BRANCH: ref, BRANCH_NAME: ref };
}
