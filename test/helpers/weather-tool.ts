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
