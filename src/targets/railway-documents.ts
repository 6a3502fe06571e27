/**
 * Every GraphQL document envsync sends to Railway. Kept in one place so a test can validate
 * each against Railway's published schema (test/fixtures/railway-schema.json).
 */

const connection = 'edges { node { id name } } pageInfo { hasNextPage endCursor }'

export const PROJECT = `query EnvsyncProject($id: String!) {
  project(id: $id) {
    id
    name
    environments(first: 100) { ${connection} }
    services(first: 100) { ${connection} }
  }
}`

export const PROJECTS = `query EnvsyncProjects($after: String) {
  projects(first: 100, after: $after) { ${connection} }
}`

export const PROJECT_TOKEN = `query EnvsyncProjectToken {
  projectToken { projectId environmentId }
}`

/** unrendered: references such as ${{Postgres.DATABASE_URL}} come back literally. */
export const VARIABLES = `query EnvsyncVariables($projectId: String!, $environmentId: String!, $serviceId: String) {
  variables(projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId, unrendered: true)
}`

export const UPSERT = `mutation EnvsyncUpsert($input: VariableCollectionUpsertInput!) {
  variableCollectionUpsert(input: $input)
}`

export const DELETE = `mutation EnvsyncDelete($input: VariableDeleteInput!) {
  variableDelete(input: $input)
}`

export const REDEPLOY = `mutation EnvsyncRedeploy($environmentId: String!, $serviceId: String!) {
  serviceInstanceRedeploy(environmentId: $environmentId, serviceId: $serviceId)
}`

export const documents = {PROJECT, PROJECTS, PROJECT_TOKEN, VARIABLES, UPSERT, DELETE, REDEPLOY}
