import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Services } from "../services.js";
import { defineRoute, type RouteDef } from "../route.js";
import { HttpError, notFound } from "../http-error.js";
import { findProject } from "../../store/projects.js";
import { createPipeline } from "../../store/pipelines.js";
import type { WebhookResponse } from "../api-types.js";

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const hmac = (secret: string, body: Buffer) => createHmac("sha256", secret).update(body).digest("hex");

interface PushPayload {
  ref?: string;
  after?: string;
  deleted?: boolean;
  pusher?: { name?: string; login?: string; username?: string };
  user_username?: string;
  sender?: { login?: string };
}

/** Push webhooks from GitHub, GitLab and Gitea, verified with the project's webhook secret. */
export function webhookRoutes(s: Services): RouteDef[] {
  return [
    defineRoute({
      method: "POST",
      url: "/api/v1/webhooks/:provider/:project",
      summary:
        "Start a pipeline on a push (GitHub X-Hub-Signature-256, GitLab X-Gitlab-Token, Gitea X-Gitea-Signature)",
      tag: "webhooks",
      access: { kind: "public" },
      params: z.object({ provider: z.enum(["github", "gitlab", "gitea"]), project: z.string() }),
      response: z.object({ pipelineId: z.number().nullable(), ignored: z.string().optional() }),
      handler: async ({ params, req, reply }): Promise<WebhookResponse> => {
        const project = await findProject(s.db, params.project);
        if (!project) throw notFound(`project "${params.project}"`);
        const secret = project.webhook_secret;
        if (!secret)
          throw new HttpError(
            403,
            "forbidden",
            `project "${project.name}" has no webhook secret; set one with PATCH /api/v1/projects/${project.name} {"webhookSecret": ...}`,
          );
        const raw =
          (req as unknown as { rawBody?: Buffer }).rawBody ?? Buffer.from(JSON.stringify(req.body ?? {}));
        const h = req.headers;
        let event: string;
        if (params.provider === "github") {
          const sig = String(h["x-hub-signature-256"] ?? "");
          if (!sig || !same(sig, `sha256=${hmac(secret, raw)}`))
            throw new HttpError(
              401,
              "bad_signature",
              "X-Hub-Signature-256 does not match the project's webhook secret",
            );
          event = String(h["x-github-event"] ?? "");
        } else if (params.provider === "gitea") {
          const sig = String(h["x-gitea-signature"] ?? "");
          if (!sig || !same(sig, hmac(secret, raw)))
            throw new HttpError(
              401,
              "bad_signature",
              "X-Gitea-Signature does not match the project's webhook secret",
            );
          event = String(h["x-gitea-event"] ?? "");
        } else {
          const tok = String(h["x-gitlab-token"] ?? "");
          if (!tok || !same(tok, secret))
            throw new HttpError(
              401,
              "bad_signature",
              "X-Gitlab-Token does not match the project's webhook secret",
            );
          event =
            String(h["x-gitlab-event"] ?? "") === "Push Hook" ||
            String(h["x-gitlab-event"] ?? "") === "Tag Push Hook"
              ? "push"
              : String(h["x-gitlab-event"] ?? "");
        }
        if (event !== "push") return { pipelineId: null, ignored: `event "${event}" is not a push` };
        const body = (req.body ?? {}) as PushPayload;
        if (!body.ref)
          throw new HttpError(400, "bad_request", "the push payload has no ref", [
            { path: "body.ref", message: "required" },
          ]);
        if (body.deleted || /^0+$/.test(body.after ?? ""))
          return { pipelineId: null, ignored: "the branch was deleted" };
        const ref = body.ref.replace(/^refs\/(heads|tags)\//, "");
        const refKind = body.ref.startsWith("refs/tags/")
          ? "tag"
          : body.ref.startsWith("refs/heads/")
            ? "branch"
            : undefined;
        const by =
          body.pusher?.name ??
          body.pusher?.login ??
          body.pusher?.username ??
          body.user_username ??
          body.sender?.login ??
          params.provider;
        const id = await createPipeline(s.db, {
          projectId: Number(project.id),
          ref,
          trigger: "push",
          variables: {},
          params: {},
          createdBy: by,
          ...(refKind ? { refKind } : {}),
        });
        void s.starter.start(id);
        reply.code(201);
        return { pipelineId: id };
      },
    }),
  ];
}
