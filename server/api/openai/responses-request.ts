import {
  checkConstraints,
  type GenerationConstraints,
  type SamplingOptions,
  type ToolChoice,
  type ToolDefinition,
} from '../../engine/generation.ts';
import { invalidRequest } from '../../errors.ts';
import type { ResponseCreateBody, ResponseItem } from './responses-schema.ts';
import { unsupported } from './sampling.ts';

/** A /v1/responses body → the engine's sampling options (Responses has no stop, seed or penalties). */
export function responseSampling(body: ResponseCreateBody): SamplingOptions {
  return {
    maxTokens: body.max_output_tokens ?? undefined,
    // OpenAI's defaults: temperature 1, top_p 1 (no nucleus cut).
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? undefined,
    stop: [],
    presencePenalty: 0,
    frequencyPenalty: 0,
    ignoreEos: false,
  };
}

/** Refuses what changes the answer and LMX does not do, by name. */
export function refuseUnsupported(body: ResponseCreateBody): void {
  if (body.background === true) unsupported('background', 'background responses are not supported');
  if (body.conversation != null)
    unsupported('conversation', 'conversations are not supported: use previous_response_id');
  if (body.prompt != null) unsupported('prompt', 'stored prompt templates are not supported');
  if (body.top_logprobs != null && body.top_logprobs > 0)
    unsupported('top_logprobs', 'log probabilities are not supported');
}

/** Tools, tool_choice, text.format and reasoning.effort → the generation's constraints. */
export function responseConstraints(body: ResponseCreateBody): GenerationConstraints {
  const constraints: GenerationConstraints = {};
  const definitions = (body.tools ?? []).map(functionTool);
  const choice = toolChoice(body.tool_choice ?? 'auto', definitions);
  if (definitions.length > 0) {
    constraints.tools = {
      definitions: choice.allowed ? definitions.filter((d) => choice.allowed?.has(d.name)) : definitions,
      choice: choice.choice,
      parallel: body.parallel_tool_calls !== false,
    };
  } else if (choice.choice === 'required' || typeof choice.choice === 'object') {
    throw invalidRequest(
      'tool_choice asks for a tool call, but the request declares no tools',
      'tool_choice',
    );
  }
  const format = body.text?.format;
  if (format?.type === 'json_object') constraints.output = { kind: 'json' };
  if (format?.type === 'json_schema') constraints.output = { kind: 'json_schema', schema: format.schema };
  if (constraints.output && constraints.tools && constraints.tools.choice !== 'none')
    unsupported('text.format', 'a structured output together with tools is not supported');
  const effort = body.reasoning?.effort;
  if (effort != null) constraints.reasoningEffort = effort === 'xhigh' || effort === 'max' ? 'high' : effort;
  // Schemas the grammar cannot enforce are refused before anything is generated or streamed.
  checkConstraints(constraints);
  return constraints;
}

/** A function tool; any other type is one of OpenAI's built-in tools, which run on OpenAI's side. */
function functionTool(tool: ResponseItem, index: number): ToolDefinition {
  const where = `tools[${index}]`;
  if (tool.type !== 'function')
    throw invalidRequest(
      `The built-in tool '${String(tool.type)}' is not supported: LMX runs function tools only (the client executes them).`,
      `${where}.type`,
      'unsupported_tool',
    );
  if (typeof tool.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name))
    throw invalidRequest(
      `Invalid value for '${where}.name': a function name of 1 to 64 letters, digits, _ or -.`,
      `${where}.name`,
      'invalid_value',
    );
  const parameters = tool.parameters ?? undefined;
  if (parameters !== undefined && (typeof parameters !== 'object' || Array.isArray(parameters)))
    throw invalidRequest(
      `Invalid value for '${where}.parameters': must be an object.`,
      `${where}.parameters`,
    );
  return {
    name: tool.name,
    description: typeof tool.description === 'string' ? tool.description : undefined,
    parameters,
  };
}

/** OpenAI's tool_choice forms; allowed_tools narrows the tools the model may call. */
function toolChoice(
  choice: string | ResponseItem,
  definitions: readonly ToolDefinition[],
): { choice: ToolChoice; allowed?: ReadonlySet<string> } {
  if (typeof choice === 'string') return { choice: choice as ToolChoice };
  const named = (name: unknown, where: string) => {
    if (typeof name !== 'string' || !definitions.some((d) => d.name === name))
      throw invalidRequest(`${where} names '${String(name)}', which is not in tools`, where);
    return name;
  };
  if (choice.type === 'function') return { choice: { name: named(choice.name, 'tool_choice.name') } };
  if (choice.type === 'allowed_tools' && Array.isArray(choice.tools)) {
    const names = (choice.tools as ResponseItem[]).map((tool, index) =>
      named(tool.name, `tool_choice.tools[${index}].name`),
    );
    return { choice: choice.mode === 'required' ? 'required' : 'auto', allowed: new Set(names) };
  }
  throw invalidRequest(
    `tool_choice '${String(choice.type)}' asks for a built-in tool, which LMX does not run.`,
    'tool_choice.type',
    'unsupported_tool',
  );
}
