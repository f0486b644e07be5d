import { LlamaText, type ChatWrapper } from 'node-llama-cpp';

/**
 * The model's own chat wrapper, except that its reply starts inside a function call: the wrapper's call
 * prefix is put in, then node-llama-cpp's function-name and parameter grammars constrain the rest, so even a
 * tiny or random-weight model returns a call to a declared function whose arguments match its schema
 * (tool_choice "required" or a named function). The same mechanism node-llama-cpp uses for Functionary,
 * whose replies always start in function mode.
 */
export function forcingToolCall(wrapper: ChatWrapper): ChatWrapper {
  return new Proxy(wrapper, {
    get(target, property, receiver) {
      if (property !== 'generateContextState') return Reflect.get(target, property, receiver) as unknown;
      return (options: Parameters<ChatWrapper['generateContextState']>[0]) => {
        const state = target.generateContextState(options);
        return {
          contextText: state.contextText,
          stopGenerationTriggers: state.stopGenerationTriggers,
          ignoreStartText: state.ignoreStartText,
          // A disengage trigger that never matches makes node-llama-cpp write the call prefix itself
          // ("prefixOrDisengage"), rather than assume the prompt already ends with it.
          functionCall: { initiallyEngaged: true, disengageInitiallyEngaged: [LlamaText('\u0000\u0000')] },
        };
      };
    },
  });
}
