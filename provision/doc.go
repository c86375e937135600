// Package provision holds the commands' use cases: Open loads and checks an inventory, resolves its secrets,
// verifies the repository key and connects the fleet's servers into a Session ready to plan; Render shows what a
// host would get; Validate checks an inventory offline; a Session saves its plan (plan/planfile) and narrows to a
// saved plan's hosts. What a fleet is belongs to provision/catalog, how it is planned and applied to
// provision/engine.
package provision
