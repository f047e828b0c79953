// migcheck for VS Code: starts `migcheck lsp` for SQL files. All the logic is in the server.
"use strict";
const path = require("path");
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function serverCommand() {
  const cfg = vscode.workspace.getConfiguration("migcheck");
  let command = cfg.get("path", "migcheck");
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  if (folder && command.includes("/") && !path.isAbsolute(command)) {
    command = path.join(folder.uri.fsPath, command);
  }
  return {
    command,
    options: {
      checkAllSqlFiles: cfg.get("checkAllSqlFiles", false),
      debounceMs: cfg.get("debounceMs", 200),
    },
  };
}

async function start(context) {
  const { command, options } = serverCommand();
  const serverOptions = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient("migcheck", "migcheck", serverOptions, {
    documentSelector: [{ scheme: "file", language: "sql" }],
    initializationOptions: options,
  });
  try {
    await client.start();
  } catch (err) {
    vscode.window.showErrorMessage(
      `migcheck: cannot start \`${command} lsp\` (${err.message || err}). ` +
        "Install it with `pip install 'migcheck[lsp]'` or set `migcheck.path`."
    );
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("migcheck.restart", async () => {
      if (client) await client.stop();
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration("migcheck")) {
        if (client) await client.stop();
        await start(context);
      }
    })
  );
  await start(context);
}

async function deactivate() {
  if (client) await client.stop();
}

module.exports = { activate, deactivate };
