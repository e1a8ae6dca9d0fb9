import 'reflect-metadata';
import { Brigade } from '@brigade/core';
import { Audit } from './audit.service';

void Brigade.run({ services: [Audit] });
