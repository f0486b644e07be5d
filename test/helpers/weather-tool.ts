import type OpenAI from 'openai';
import { Ajv } from 'ajv';
import { weatherParameters } from '../fixtures/weather-tool.ts';

/** A function tool whose arguments a random-weight model can only fill in validly (see weatherParameters). */
export const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: weatherParameters,
  },
};

export const validateWeather = new Ajv().compile(weather.function.parameters);

/** One get_weather call required of the model (tool_choice required, one call): the reply's only choice. */
export async function requiredWeatherCall(
  openai: OpenAI,
  model: string,
  messages: OpenAI.ChatCompletionMessageParam[],
): Promise<OpenAI.ChatCompletion.Choice> {
  const completion = await openai.chat.completions.create({
    model,
    messages,
    tools: [weather],
    tool_choice: 'required',
    parallel_tool_calls: false,
    max_tokens: 64,
  });
  return completion.choices[0]!;
}
