import { z } from "zod";
import type { Services } from "../services.js";
import { defineRoute, type RouteDef } from "../route.js";
import { conflict, notFound } from "../http-error.js";
import * as S from "../schemas.js";
import {
  createProject,
  deleteProject,
  findProject,
  listProjects,
  projectById,
  updateProject,
} from "../../store/projects.js";
import { createPipeline, listPipelines } from "../../store/pipelines.js";
import { audit, findUser, projectMembers, setMember } from "../../store/accounts.js";
import { pipelineSummary, projectView } from "../views.js";
import { roleOn } from "../auth.js";
import type { CreatePipelineResponse, Page, PipelineStatus, PipelineSummary, Project } from "../api-types.js";

/** Projects, their members, and starting and listing their pipelines. */
export function projectRoutes(s: Services): RouteDef[] {
  const project = async (name: string) => {
    const p = await findProject(s.db, name);
    if (!p) throw notFound(`project "${name}"`);
    return p;
  };
  return [
    defineRoute({
      method: "GET",
      url: "/api/v1/projects",
      summary: "Projects the caller can see, with the newest pipeline of each",
      tag: "projects",
      access: { kind: "user" },
      response: z.array(S.projectOut),
      handler: async ({ caller }): Promise<Project[]> => {
        const out: Project[] = [];
        for (const p of await listProjects(s.db)) {
          const role = roleOn(caller, Number(p.id));
          if (!role) continue;
          const [last] = await listPipelines(s.db, { projectId: Number(p.id), limit: 1 });
          out.push({
            ...projectView(p, role),
            ...(last
              ? {
                  lastPipeline: {
                    id: Number(last.id),
                    status: last.status as PipelineStatus,
                    ref: last.ref,
                    createdAt: new Date(Number(last.created_at)).toISOString(),
                  },
                }
              : {}),
          });
        }
        return out;
      },
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/projects",
      summary: "Create a project pointing at a git repository",
      tag: "projects",
      access: { kind: "admin" },
      body: S.createProject,
      status: 201,
      response: S.projectOut,
      handler: async ({ body, caller }) => {
        if (await findProject(s.db, body.name))
          throw conflict(`a project named "${body.name}" already exists`);
        const id = await createProject(s.db, {
          name: body.name,
          repo: body.repo,
          defaultBranch: body.defaultBranch ?? "main",
          pipelineFile: body.pipelineFile ?? null,
          webhookSecret: body.webhookSecret ?? null,
        });
        await audit(s.db, caller.kind === "user" ? caller.name : "?", "project.create", body.name);
        s.auth.invalidate();
        return projectView((await projectById(s.db, id))!, "admin");
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/projects/:name",
      summary: "One project",
      tag: "projects",
      access: { kind: "project", role: "viewer", from: "name" },
      params: S.nameParam,
      response: S.projectOut,
      handler: async ({ params, caller, projectId }) =>
        projectView(await project(params.name), roleOn(caller, projectId)),
    }),
    defineRoute({
      method: "PATCH",
      url: "/api/v1/projects/:name",
      summary: "Change a project's repository, default branch, pipeline file or webhook secret",
      tag: "projects",
      access: { kind: "project", role: "maintainer", from: "name" },
      params: S.nameParam,
      body: S.updateProject,
      response: S.projectOut,
      handler: async ({ params, body, projectId, caller }) => {
        await updateProject(s.db, projectId, body);
        await audit(s.db, caller.kind === "user" ? caller.name : "?", "project.update", params.name, {
          fields: Object.keys(body),
        });
        s.auth.invalidate();
        return projectView((await projectById(s.db, projectId))!, roleOn(caller, projectId));
      },
    }),
    defineRoute({
      method: "DELETE",
      url: "/api/v1/projects/:name",
      summary: "Delete a project with its pipelines, logs and secrets",
      tag: "projects",
      access: { kind: "project", role: "admin", from: "name" },
      params: S.nameParam,
      status: 204,
      handler: async ({ params, projectId, caller }) => {
        await deleteProject(s.db, projectId);
        await audit(s.db, caller.kind === "user" ? caller.name : "?", "project.delete", params.name);
        s.auth.invalidate();
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/projects/:name/members",
      summary: "Users with a role on the project",
      tag: "projects",
      access: { kind: "project", role: "viewer", from: "name" },
      params: S.nameParam,
      response: z.array(z.object({ user: z.string(), role: S.role })),
      handler: async ({ projectId }) => projectMembers(s.db, projectId),
    }),
    defineRoute({
      method: "PUT",
      url: "/api/v1/projects/:name/members/:user",
      summary: "Give a user a role on the project",
      tag: "projects",
      access: { kind: "project", role: "admin", from: "name" },
      params: z.object({ name: z.string(), user: z.string() }),
      body: S.setMember,
      response: z.object({ user: z.string(), role: S.role }),
      handler: async ({ params, body, projectId, caller }) => {
        const u = await findUser(s.db, params.user);
        if (!u) throw notFound(`user "${params.user}"`);
        await setMember(s.db, projectId, Number(u.id), body.role);
        await audit(s.db, caller.kind === "user" ? caller.name : "?", "member.set", params.name, {
          user: params.user,
          role: body.role,
        });
        s.auth.invalidate();
        return { user: params.user, role: body.role };
      },
    }),
    defineRoute({
      method: "DELETE",
      url: "/api/v1/projects/:name/members/:user",
      summary: "Remove a user's role on the project",
      tag: "projects",
      access: { kind: "project", role: "admin", from: "name" },
      params: z.object({ name: z.string(), user: z.string() }),
      status: 204,
      handler: async ({ params, projectId }) => {
        const u = await findUser(s.db, params.user);
        if (!u) throw notFound(`user "${params.user}"`);
        await setMember(s.db, projectId, Number(u.id), null);
        s.auth.invalidate();
      },
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/projects/:name/pipelines",
      summary: "Start a pipeline at a ref, with variables and parameters",
      tag: "pipelines",
      access: { kind: "project", role: "developer", from: "name" },
      params: S.nameParam,
      body: S.createPipeline,
      status: 201,
      response: z.object({ id: z.number() }),
      handler: async ({ params, body, projectId, caller }): Promise<CreatePipelineResponse> => {
        const p = await project(params.name);
        const id = await createPipeline(s.db, {
          projectId,
          ref: body.ref ?? p.default_branch,
          trigger: "api",
          variables: body.variables ?? {},
          params: body.params ?? {},
          createdBy: caller.kind === "user" ? caller.name : "?",
        });
        void s.starter.start(id);
        return { id };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/projects/:name/pipelines",
      summary: "A project's pipelines, newest first (cursor pagination; filter by status and ref)",
      tag: "pipelines",
      access: { kind: "project", role: "viewer", from: "name" },
      params: S.nameParam,
      query: S.listPipelines,
      response: S.page(S.pipelineSummaryOut),
      handler: async ({ params, query, projectId }): Promise<Page<PipelineSummary>> => {
        const limit = query.limit ?? 20;
        const rows = await listPipelines(s.db, {
          projectId,
          limit: limit + 1,
          ...(query.status ? { status: query.status } : {}),
          ...(query.ref ? { ref: query.ref } : {}),
          ...(query.cursor ? { beforeId: Number(query.cursor) } : {}),
        });
        const items = rows.slice(0, limit).map((r) => pipelineSummary(r, params.name));
        return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null };
      },
    }),
  ];
}
