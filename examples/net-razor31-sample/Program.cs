// The walkthrough's .NET sample: a minimal Razor Pages app on port 8080
// (ASPNETCORE_HTTP_PORTS in the image) with a health endpoint for the
// Kubernetes probes. Nothing here knows about the agent: jbuild adds the
// JENNIFER .NET agent (CoreCLR profiler) to the image.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddRazorPages();
builder.Services.AddHealthChecks();

var app = builder.Build();
app.MapRazorPages();
app.MapHealthChecks("/health");
app.Run();
