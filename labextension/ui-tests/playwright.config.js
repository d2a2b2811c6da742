/**
 * End-to-end tests: a real `jupyter lab` on 127.0.0.1, a real Chromium from the system
 * (browsers cannot be downloaded here), no video.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const port = process.env.UI_TESTS_PORT || '8898';
const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

module.exports = {
  ...baseConfig,
  testDir: './tests',
  outputDir: './test-results',
  timeout: 120000,
  expect: { timeout: 20000 },
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${port}`,
    video: 'off',
    trace: 'retain-on-failure',
    viewport: { width: 1280, height: 900 },
    launchOptions: {
      executablePath: chromium,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    }
  },
  webServer: {
    command: 'jlpm start',
    url: `http://127.0.0.1:${port}/lab`,
    timeout: 120000,
    reuseExistingServer: !process.env.CI,
    env: { ...process.env, UI_TESTS_PORT: port }
  }
};
