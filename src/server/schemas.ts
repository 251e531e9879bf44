import { z } from "zod";
import type {
  ApproveRequest,
  CreatePipelineRequest,
  CreateProjectRequest,
  CreateRunnerRequest,
  CreateTokenRequest,
  CreateUserRequest,
  PutSecretRequest,
  UpdateProjectRequest,
} from "./api-types.js";

/** Request schemas; `satisfies` keeps them in step with `api-types.ts`. */
const name = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
    "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 100",
  );
const vars = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a variable name"),
  z.string().max(65_536),
);
export const role = z.enum(["viewer", "developer", "maintainer", "admin"]);

export const createProject = z.object({
  name,
  repo: z.string().min(1).max(2048),
  defaultBranch: z.string().min(1).max(255).optional(),
  pipelineFile: z.string().min(1).max(1024).optional(),
  webhookSecret: z.string().min(8).max(256).optional(),
}) satisfies z.ZodType<CreateProjectRequest>;

export const updateProject = createProject
  .omit({ name: true })
  .partial() satisfies z.ZodType<UpdateProjectRequest>;

export const createPipeline = z.object({
  ref: z.string().min(1).max(255).optional(),
  variables: vars.optional(),
  params: z.record(z.string(), z.string().max(65_536)).optional(),
}) satisfies z.ZodType<CreatePipelineRequest>;

export const listPipelines = z.object({
  cursor: z.string().regex(/^\d+$/, "a cursor from nextCursor").optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  status: z
    .enum(["pending", "running", "blocked", "success", "unstable", "failed", "canceled", "error"])
    .optional(),
  ref: z.string().max(255).optional(),
});

export const approve = z.object({
  params: z.record(z.string(), z.string()).optional(),
}) satisfies z.ZodType<ApproveRequest>;

export const putSecret = z
  .object({
    kind: z.enum(["secret", "usernamePassword", "file"]).optional(),
    value: z.string().max(1_048_576).optional(),
    username: z.string().max(1024).optional(),
    password: z.string().max(65_536).optional(),
    protected: z.boolean().optional(),
  })
  .refine(
    (b) =>
      (b.kind ?? "secret") === "usernamePassword"
        ? b.username !== undefined && b.password !== undefined
        : b.value !== undefined,
    {
      message: "give `value`, or `username` and `password` for kind usernamePassword",
    },
  ) satisfies z.ZodType<PutSecretRequest>;

export const createUser = z.object({
  name,
  admin: z.boolean().optional(),
}) satisfies z.ZodType<CreateUserRequest>;

export const createToken = z.object({
  name: z.string().min(1).max(100),
  scopes: z
    .array(z.enum(["read", "write"]))
    .min(1)
    .optional(),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
  user: name.optional(),
}) satisfies z.ZodType<CreateTokenRequest>;

export const createRunner = z.object({
  name,
  labels: z.array(z.string().min(1).max(100)).max(50).optional(),
}) satisfies z.ZodType<CreateRunnerRequest>;

export const setMember = z.object({ role });

export const idParam = z.object({ id: z.coerce.number().int().positive() });
export const nameParam = z.object({ name: z.string() });

// Response shapes (for the OpenAPI document).
const iso = z.string();
export const projectOut = z.object({
  name: z.string(),
  repo: z.string(),
  defaultBranch: z.string(),
  pipelineFile: z.string().optional(),
  createdAt: iso,
  role: role.optional(),
});
export const pipelineSummaryOut = z.object({
  id: z.number(),
  project: z.string(),
  status: z.string(),
  ref: z.string(),
  sha: z.string(),
  trigger: z.string(),
  createdBy: z.string(),
  createdAt: iso,
  startedAt: iso.nullable(),
  finishedAt: iso.nullable(),
  durationMs: z.number().nullable(),
});
export const jobSummaryOut = z.object({
  id: z.number(),
  key: z.string(),
  name: z.string(),
  stage: z.string(),
  status: z.string(),
  needs: z.array(z.string()),
  attempt: z.number(),
  allowFailure: z.boolean(),
  when: z.string(),
  durationMs: z.number().nullable(),
  startedAt: iso.nullable(),
  finishedAt: iso.nullable(),
  reason: z.string().optional(),
  exitCode: z.number().nullable().optional(),
  input: z
    .object({
      message: z.string(),
      ok: z.string(),
      submitter: z.string().optional(),
      parameters: z.array(z.unknown()),
    })
    .optional(),
});
export const pipelineDetailOut = pipelineSummaryOut.extend({
  stages: z.array(z.string()),
  jobs: z.array(jobSummaryOut),
  variables: z.record(z.string(), z.string()),
  params: z.record(z.string(), z.string()),
  parameters: z.array(z.unknown()),
  diagnostics: z.array(z.unknown()),
  error: z.string().optional(),
});
export const jobDetailOut = jobSummaryOut.extend({
  pipelineId: z.number(),
  project: z.string(),
  runner: z.string().nullable(),
  logSize: z.number(),
  queuedAt: iso.nullable(),
});
export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
export const ok = z.object({ ok: z.boolean() });
