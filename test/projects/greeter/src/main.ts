import { Brigade } from '@brigade/core';
import { Greeter } from './greeter.service.js';

void Brigade.run({ services: [Greeter] });
