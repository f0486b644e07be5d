import { Ajv } from 'ajv';

/** A function tool whose arguments a random-weight model can only fill in validly (see below). */
export const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      // Bounded values: random weights never end a free string. (No maxLength: node-llama-cpp 3.21.1's grammar
      // lets a string run past it, then its own check of the call throws.)
      properties: {
        city: { type: 'string', enum: ['Paris', 'Rome', 'Oslo'] },
        days: { type: 'integer', enum: [1, 2, 3] },
      },
      required: ['city', 'days'],
      additionalProperties: false,
    },
  },
};

export const validateWeather = new Ajv().compile(weather.function.parameters);
