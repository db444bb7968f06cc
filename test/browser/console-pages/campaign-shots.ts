// Console pages of the sign-in, the dashboard and campaigns.
import type { ShotProvider } from './scene.js';

export const campaignShots: ShotProvider = async () => [
  { name: 'signin', path: '/console/signin', caption: '`/console/signin`: an operator key is exchanged for a console session (HttpOnly cookie)', as: null },
];
