// Every console page, in README order. Each provider owns its part of the console.
import { campaignShots } from './campaign-shots.js';
import { adminShots } from './admin-shots.js';
import { deskShots } from './desk-shots.js';
import type { ShotProvider } from './scene.js';

export const SHOT_PROVIDERS: ShotProvider[] = [campaignShots, deskShots, adminShots];
