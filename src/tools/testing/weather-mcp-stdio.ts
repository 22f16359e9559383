/** Entry point for tests: serves the weather MCP server over stdio (spawned with process.execPath). */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createWeatherServer } from './weather-mcp-server.ts';

await createWeatherServer().connect(new StdioServerTransport());
