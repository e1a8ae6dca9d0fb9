import 'reflect-metadata';
import { Brigade } from '@brigade/core';
import { DEAD_LETTERS, ORDERS_STREAM } from '@restaurant/contracts';
import { Kitchen } from './kitchen.service';

void Brigade.run({ services: [Kitchen], streams: [ORDERS_STREAM], deadLetter: DEAD_LETTERS });
