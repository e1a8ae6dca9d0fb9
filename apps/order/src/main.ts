import 'reflect-metadata';
import { Brigade } from '@brigade/core';
import { DEAD_LETTERS, ORDERS_STREAM } from '@restaurant/contracts';
import { OrderService } from './order.service';

void Brigade.run({ services: [OrderService], streams: [ORDERS_STREAM], deadLetter: DEAD_LETTERS });
